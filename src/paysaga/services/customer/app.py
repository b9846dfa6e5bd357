"""Customer HTTP API (internal: the BFF calls it)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from paysaga.contracts.identities import BFF, OPS
from paysaga.platform.db import Database
from paysaga.platform.http import ReadinessCheck, create_app, overloaded, problem_response
from paysaga.platform.passwords import HashingBusy, PasswordHashing
from paysaga.platform.problems import Problem, not_found, problems
from paysaga.platform.service_auth import callers
from paysaga.platform.unit_of_work import UnitOfWork
from paysaga.services.customer import handlers, repository
from paysaga.services.customer.domain import WeakPassword
from paysaga.services.customer.schemas import Credentials, CustomerId, CustomerView, NewCustomer


def build_app(
    db: Database,
    new_uow: Callable[[], UnitOfWork],
    readiness: dict[str, ReadinessCheck],
    hashing: PasswordHashing,
) -> FastAPI:
    app = create_app(
        title="PaySaga Customer",
        description="Customers and their credentials. Publishes CustomerCreated to customer-events.",
        readiness=readiness,
    )

    @app.exception_handler(HashingBusy)
    async def _busy(request: Request, exc: HashingBusy) -> JSONResponse:
        return problem_response(overloaded("Too many password checks in progress; retry later."), request)

    @app.post(
        "/v1/customers",
        status_code=status.HTTP_201_CREATED,
        response_model=CustomerId,
        dependencies=[callers(BFF)],
        responses=problems((409, "email-taken"), (422, "weak-password")),
    )
    async def register(body: NewCustomer) -> CustomerId:
        cmd = handlers.RegisterCustomer(
            email=str(body.email),
            password=body.password,
            name=body.name,
            phone=str(body.phone),
            currency=body.currency,
        )
        try:
            user_id = await handlers.register_customer(cmd, new_uow(), hashing)
        except WeakPassword as exc:
            raise Problem(422, "weak-password", "The password is too weak", str(exc)) from exc
        except repository.EmailTaken as exc:
            raise Problem(
                409,
                "email-taken",
                "The email is already registered",
                "An account with this email exists; log in instead.",
            ) from exc
        return CustomerId(user_id=str(user_id))

    @app.post(
        "/v1/credentials/verify",
        response_model=CustomerId,
        dependencies=[callers(BFF)],
        responses=problems((401, "invalid-credentials")),
    )
    async def verify(body: Credentials) -> CustomerId:
        user_id = await handlers.authenticate(db, hashing, body.email, body.password)
        if user_id is None:
            raise Problem(401, "invalid-credentials", "Invalid credentials", "The email or password is wrong.")
        return CustomerId(user_id=str(user_id))

    @app.get(
        "/v1/customers/{user_id}",
        response_model=CustomerView,
        dependencies=[callers(BFF, OPS)],
        responses=problems((404, "not-found")),
    )
    async def get_customer(user_id: UUID) -> CustomerView:
        async with db.connection() as conn:
            row = await repository.find_by_id(conn, user_id)
        if row is None:
            raise not_found(f"no customer {user_id}")
        return CustomerView(
            user_id=str(row.user_id), email=row.email, name=row.name, phone=row.phone, currency=row.currency
        )

    return app
