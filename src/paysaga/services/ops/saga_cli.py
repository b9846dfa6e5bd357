"""`paysaga saga <paymentId>`: where is the payment and what is it waiting for, in a terminal.

It logs in to the Ops service as an operator (`--email`; the password from PAYSAGA_OPERATOR_PASSWORD,
else asked on the terminal), GETs `/ops/v1/payments/{paymentId}/saga` and prints the timeline as
text (`--json`: the timeline as the API answers it).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys

import httpx

from paysaga.contracts.ops import SagaTimeline
from paysaga.services.ops.timeline import render_text

PASSWORD_ENV = "PAYSAGA_OPERATOR_PASSWORD"


def _fail(response: httpx.Response, what: str) -> int:
    try:
        detail = response.json().get("detail") or response.text
    except ValueError:
        detail = response.text
    print(f"paysaga saga: {what}: HTTP {response.status_code}: {detail}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="paysaga saga", description=__doc__.split("\n\n")[0])
    parser.add_argument("payment_id", metavar="paymentId")
    parser.add_argument("--email", default=os.environ.get("PAYSAGA_OPERATOR_EMAIL"), help="the operator's email")
    parser.add_argument(
        "--url",
        default=os.environ.get("PAYSAGA_OPS_URL", "http://127.0.0.1:8011"),
        help="the Ops service (default http://127.0.0.1:8011, or PAYSAGA_OPS_URL)",
    )
    parser.add_argument("--json", action="store_true", help="print the timeline as JSON")
    parser.add_argument("--width", type=int, default=160, help="cut lines longer than this")
    args = parser.parse_args(argv)
    if not args.email:
        parser.error("--email is required (or PAYSAGA_OPERATOR_EMAIL)")
    password = os.environ.get(PASSWORD_ENV) or getpass.getpass(f"Password of {args.email}: ")
    try:
        with httpx.Client(base_url=args.url.rstrip("/"), timeout=30) as ops:
            login = ops.post("/ops/v1/auth/login", json={"email": args.email, "password": password})
            if login.status_code != 200:
                return _fail(login, "login refused")
            token = login.json()["accessToken"]
            answer = ops.get(f"/ops/v1/payments/{args.payment_id}/saga", headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        print(f"paysaga saga: the Ops service at {args.url} did not answer ({exc}); is `make run` up?", file=sys.stderr)
        return 1
    if answer.status_code != 200:
        return _fail(answer, f"payment {args.payment_id}")
    if args.json:
        print(json.dumps(answer.json(), indent=2))
        return 0
    timeline = SagaTimeline.model_validate(answer.json())
    sys.stdout.write(render_text(timeline, width=args.width))
    if timeline.trace_url:
        print(f"trace: {timeline.trace_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
