"""An operator at the console (SPEC §9, §10): logs in, finds a payment and reads its saga timeline,
sees a payment wait, replays dead letters one at a time and by filter, resolves a provider's
contradiction, runs the reconciliation job and resolves the case it opened; a customer's token
brings the login back; every main screen passes an axe-core scan (no serious or critical violation)
and is saved as a screenshot (tests/support/screenshots.py)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from playwright.sync_api import expect

from paysaga.contracts.topics import PAYMENT_EVENTS
from paysaga.platform.problems import PROBLEM_MEDIA_TYPE
from tests.e2e.console.conftest import ConsolePage, row_of
from tests.e2e.test_ops import PASSWORD, eventually
from tests.support.infra import Infra
from tests.support.kafka import produce_raw
from tests.support.platform import RunningPlatform
from tests.support.saga import Customer, new_account, register

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def ops_api(platform: RunningPlatform, operator_email: str) -> Iterator[httpx.Client]:
    """The same operator on the API, to check what the console did."""
    with httpx.Client(base_url=platform.url("ops"), timeout=20) as client:
        answer = client.post("/ops/v1/auth/login", json={"email": operator_email, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        client.headers["Authorization"] = f"Bearer {answer.json()['accessToken']}"
        yield client


@pytest.fixture(scope="module")
def customer(platform: RunningPlatform) -> Iterator[Customer]:
    with httpx.Client(base_url=platform.url("bff"), timeout=10) as client:
        yield register(client, top_up=10_000_000)


def paid(customer: Customer, amount: int, account: str | None = None) -> str:
    response = customer.pay(amount, account or new_account())
    assert response.status_code == 202, response.text
    payment_id: str = response.json()["paymentId"]
    return payment_id


def test_the_ops_service_serves_the_console_beside_its_api(platform: RunningPlatform, web_apps_built: None) -> None:
    with httpx.Client(base_url=platform.url("ops"), timeout=10) as http:
        for path in ("/", "/payments/123", "/fleet"):
            page = http.get(path)
            assert page.status_code == 200 and '<div id="root"></div>' in page.text, path
            assert page.headers["cache-control"] == "no-cache"
            assert "script-src 'self'" in page.headers["content-security-policy"]
        asset = re.search(r'src="(/assets/[^"]+\.js)"', http.get("/").text)
        assert asset is not None
        script = http.get(asset.group(1))
        assert script.status_code == 200 and "immutable" in script.headers["cache-control"]
        unknown = http.get("/ops/v1/nothing-here")
        assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert http.get("/ops/v1/me").status_code == 401  # the API, not the page


def test_an_operator_logs_in_and_logs_in_again_when_the_session_ends(console: ConsolePage, operator_email: str) -> None:
    page = console.page
    console.open("/")
    expect(page.get_by_role("heading", name="Operator log in")).to_be_visible()
    console.check("login")

    page.get_by_label("Email").fill(operator_email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Invalid credentials")
    expect(alert).to_contain_text("HTTP 401")

    console.log_in(operator_email)
    expect(page.get_by_text(f"Signed in as {operator_email}")).to_be_visible()
    expect(page.get_by_role("heading", name="Payments", level=1)).to_be_focused()

    # The token is refused (expired, revoked): the next call's 401 brings the login back, saying why.
    page.evaluate("() => sessionStorage.setItem('paysaga.console.token', 'expired.token.value')")
    page.reload()
    expect(page.get_by_role("status")).to_contain_text("Your session has ended")
    # By keyboard alone: the view's heading has the focus, the form follows it.
    expect(page.get_by_role("heading", name="Operator log in")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type(operator_email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Payments", level=1)).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Payment id")).to_be_focused()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Operator log in")).to_be_visible()


def test_an_operator_finds_a_payment_and_reads_its_timeline(
    console: ConsolePage, operator_email: str, customer: Customer, ops_api: httpx.Client
) -> None:
    payment_id = paid(customer, 250_00)
    assert customer.wait_final(payment_id)["status"] == "COMPLETED"
    page = console.page
    console.open("/payments")
    console.log_in(operator_email)

    page.get_by_label("User id").fill(customer.user_id)
    page.get_by_label("Status").select_option("COMPLETED")
    page.get_by_role("button", name="Search").click()
    row = row_of(page, "250.00 RUB")
    expect(row).to_contain_text("COMPLETED")
    assert "userId=" in page.url and "status=COMPLETED" in page.url  # a search is a link
    console.check("payments")

    page.get_by_label("User id").fill("not-a-uuid")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("Not a UUID: userId.")).to_be_visible()

    page.get_by_label("User id").fill("")
    page.get_by_label("Status").select_option("")
    page.get_by_label("Payment id").fill(payment_id)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=f"Timeline of payment {payment_id}").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(payment_id)
    # The page reads the timeline again until the DWH and every group caught up, then stops.
    completed = row_of(page.get_by_role("region", name="Records and applications"), "PaymentCompleted")
    expect(completed.first).to_contain_text("wallet: applied", timeout=30_000)
    now = page.get_by_role("status").filter(has_text="Now:")
    expect(now).to_contain_text("nothing to wait for; the saga is over.")
    expect(now).not_to_contain_text("refreshed every", timeout=30_000)
    saga = ops_api.get(f"/ops/v1/payments/{payment_id}/saga").json()
    lanes = page.get_by_role("region", name="Swimlanes").get_by_role("columnheader")
    expect(lanes.first).to_have_text("Since start")
    titles = lanes.all_inner_texts()
    assert {"Payment", "Wallet", "Antifraud"} <= set(titles), titles
    services = {e["service"] for e in saga["entries"]}
    assert len(titles) == 2 + len(services)  # one lane per service of the timeline
    steps = page.get_by_role("region", name="Swimlanes").locator("tbody tr")
    expect(steps).to_have_count(len(saga["entries"]))
    assert saga["traceUrl"], saga
    expect(page.get_by_role("link", name=re.compile("Open the trace in Zipkin"))).to_have_attribute(
        "href", saga["traceUrl"]
    )
    console.check("timeline")


def test_an_operator_sees_a_payment_wait_then_resolves_its_reconciliation_case(
    console: ConsolePage, operator_email: str, customer: Customer, ops_api: httpx.Client, platform: RunningPlatform
) -> None:
    """The provider answers after our deadline: the timeline says what the payment waits for while it
    waits; the late success opens a case that the operator resolves with a note."""
    account = new_account()
    rule = {"accountNumber": account, "outcome": "LATE_SUCCESS", "delayMs": 9000}  # after the 6 s deadline
    with httpx.Client(base_url=platform.url("provider_sim"), timeout=10) as sim:
        assert sim.put("/_sim/rules", json={"rules": [rule]}).status_code == 200
        try:
            page = console.page
            console.open("/stuck")
            console.log_in(operator_email)
            expect(page.get_by_role("heading", name="Stuck payments")).to_be_visible()
            expect(page.get_by_role("status").first).to_contain_text("as of")
            console.check("stuck")

            payment_id = paid(customer, 30_00, account)
            console.open(f"/payments/{payment_id}")
            expect(page.get_by_role("status").filter(has_text="Now:")).to_contain_text("waiting for")
            expect(page.locator("dl.facts").first).to_contain_text("(not final)")
            console.check("timeline-waiting")
            facts = page.locator("dl.facts").first
            expect(facts).to_contain_text("FAILED (final)", timeout=30_000)  # it polls
            expect(facts).to_contain_text("TIMEOUT")

            def opened() -> list[dict[str, Any]] | None:
                answer = ops_api.get("/ops/v1/reconciliation-cases", params={"paymentId": payment_id})
                return answer.json()["items"] or None

            [case] = eventually(opened, "the late success opened no case", timeout=30)
        finally:
            sim.delete("/_sim/rules")

    console.nav("Provider contradictions")
    row = row_of(page, re.compile(rf"Provider case {case['caseId']}(?!\d)"))
    expect(row).to_contain_text("LATE_SUCCESS")
    console.check("cases")
    row.get_by_role("link", name=f"Provider case {case['caseId']}", exact=True).click()
    expect(page.get_by_role("heading", name=f"Provider case {case['caseId']}")).to_be_visible()
    expect(page.get_by_text("30.00 RUB")).to_be_visible()
    console.check("case")

    note = "Provider paid after our timeout; recovered 30.00 RUB from the customer (ticket OPS-43)."
    page.get_by_label("What was done about it").fill(note)
    page.get_by_role("button", name="Resolve the case").click()
    expect(page.get_by_role("status").filter(has_text="Resolved")).to_contain_text(note)

    resolved = ops_api.get(f"/ops/v1/reconciliation-cases/{case['caseId']}").json()["case"]
    me = ops_api.get("/ops/v1/me").json()
    assert (resolved["resolutionNote"], resolved["resolvedBy"]) == (note, me["operatorId"])


def in_database(infra: Infra, service: str, *statements: str) -> None:
    """Run SQL in a service's database behind its back. In a thread: Playwright's sync API keeps an
    event loop running in this one."""

    async def run() -> None:
        conn = await asyncpg.connect(infra.dsns[service])
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, run()).result()


def add_to_wallet(infra: Infra, wallet_id: str, amount: int) -> None:
    in_database(
        infra,
        "wallet",
        f"UPDATE wallets SET balance = balance + {int(amount)} WHERE wallet_id = '{uuid.UUID(wallet_id)}'",
    )


def run_with_a_tampered_wallet(
    console: ConsolePage, customer: Customer, ops_api: httpx.Client, infra: Infra
) -> tuple[int, int]:
    """Press "Run now" with one kopeck more in the customer's wallet (put back after the run): the
    run's id, read on the page, and the RUB case it opened, read from the API."""
    page = console.page
    wallet_id = customer.wallet()["walletId"]
    add_to_wallet(infra, wallet_id, 1)
    try:
        page.get_by_role("button", name="Run now").click()
        made = page.get_by_role("status").filter(has_text="made")
        expect(made).to_contain_text("differences")
    finally:
        add_to_wallet(infra, wallet_id, -1)
    heading = made.get_by_role("heading").inner_text()
    match = re.search(r"Run (\d+) made", heading)
    assert match, heading
    run_id = int(match.group(1))
    [run] = [r for r in ops_api.get("/ops/v1/reconciliation/runs").json()["items"] if r["runId"] == run_id]
    [rub] = [d for d in run["funds"] if d["currency"] == "RUB"]
    assert (run["trigger"], run["status"], rub["difference"]) == ("operator", "differences", 1)
    return run_id, rub["caseId"]


def test_an_operator_runs_the_reconciliation_and_resolves_the_books_case_it_opened(
    console: ConsolePage, operator_email: str, customer: Customer, ops_api: httpx.Client, infra: Infra
) -> None:
    """One kopeck more in a wallet, in Wallet's database: the operator's run finds the RUB difference
    and opens a FUNDS_MISMATCH case; put back, the case stays open until the operator resolves it with
    a note, which the API then shows."""
    page = console.page
    console.open("/payments")
    console.log_in(operator_email)
    console.nav("Books reconciliation")
    expect(page.get_by_role("heading", name="Books reconciliation", level=1)).to_be_focused()
    expect(page.get_by_role("link", name="Provider contradictions").last).to_be_visible()  # the other kind, named

    run_id, case_id = run_with_a_tampered_wallet(console, customer, ops_api, infra)
    finding = (
        page.get_by_role("status").filter(has_text="made").get_by_role("listitem").filter(has_text="FUNDS_MISMATCH RUB")
    )
    expect(finding).to_contain_text("the wallets hold 0.01 RUB more")
    expect(row_of(page, f"Run {run_id}")).to_contain_text("differences")  # the list was read again
    console.check("reconciliation")

    finding.get_by_role("link", name=f"Books case {case_id}").click()
    expect(page.get_by_role("heading", name=f"Books case {case_id}", level=1)).to_be_focused()
    evidence = page.locator("dl.facts").nth(1)
    expect(evidence).to_contain_text("Customer funds (Core Banking 2100)")
    expect(evidence.locator("div").filter(has_text="Difference").locator("dd")).to_have_text("0.01 RUB")
    expect(page.locator("dl.facts").first).to_contain_text(f"by run {run_id}")
    console.check("books-case")

    page.get_by_role("link", name="All the job's cases").click()
    page.get_by_label("Kind").select_option("FUNDS_MISMATCH")
    page.get_by_label("Subject (currency or payment id)").fill("RUB")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"kind=FUNDS_MISMATCH.*subject=RUB"))  # a filter is a link
    row = row_of(page, re.compile(rf"Books case {case_id}(?!\d)"))
    expect(row).to_contain_text("open")
    expect(row).to_contain_text("Wallets")
    console.check("books-cases")

    row.get_by_role("link", name=f"Books case {case_id}", exact=True).click()
    note = "One kopeck added by hand in Wallet's database for a test, taken out again (ticket OPS-51)."
    page.get_by_label("What was done about it").fill(note)
    page.get_by_role("button", name="Resolve the case").click()
    expect(page.get_by_role("status").filter(has_text="Resolved")).to_contain_text(note)

    resolved = ops_api.get(f"/ops/v1/reconciliation/cases/{case_id}").json()
    me = ops_api.get("/ops/v1/me").json()
    assert (resolved["resolutionNote"], resolved["resolvedBy"]) == (note, me["operatorId"])
    assert resolved["resolvedAt"] is not None
    page.get_by_role("link", name="All the job's cases").click()
    page.get_by_label("Status").select_option("resolved")
    expect(row_of(page, re.compile(rf"Books case {case_id}(?!\d)"))).to_contain_text("resolved")


def test_a_customers_token_brings_the_login_back_saying_why(console: ConsolePage, customer: Customer) -> None:
    """The Ops API answers a customer's token 403 `not-an-operator`: the console ends the session and
    the login form says the account is not an operator's."""
    page = console.page
    console.open("/")
    page.evaluate("token => sessionStorage.setItem('paysaga.console.token', token)", customer.token)
    console.open("/reconciliation")
    expect(page.get_by_role("heading", name="Operator log in")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("not an operator's")
    expect(page.get_by_role("status")).to_contain_text("HTTP 403")
    assert page.evaluate("() => sessionStorage.getItem('paysaga.console.token')") is None


LOST_AMOUNT = 3456_78  # only the payment of the wallet-held test has it


def test_money_wallet_holds_for_a_payment_payment_never_accepted_shows_with_its_next_action(
    console: ConsolePage, operator_email: str, customer: Customer, ops_api: httpx.Client, infra: Infra
) -> None:
    """Payment's handler fails on one PaymentInitiated (a trigger in its database): the stuck view shows
    the money Wallet holds for it as a Wallet group whose next action is the operator's, links to its
    dead letter, and the replay from there completes the payment."""
    in_database(
        infra,
        "payment",
        "CREATE FUNCTION console_test_lost() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" IF NEW.amount = {LOST_AMOUNT} THEN RAISE EXCEPTION 'lost by the console test'; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER console_test_lost BEFORE INSERT ON payments FOR EACH ROW EXECUTE FUNCTION console_test_lost()",
    )
    try:
        payment_id = paid(customer, LOST_AMOUNT)

        def dead() -> list[dict[str, Any]] | None:
            params = {"group": "payment", "key": payment_id}
            return ops_api.get("/ops/v1/dead-letters", params=params).json()["items"] or None

        eventually(dead, "Payment's failure was not dead-lettered")
    finally:
        in_database(
            infra,
            "payment",
            "DROP TRIGGER IF EXISTS console_test_lost ON payments",
            "DROP FUNCTION IF EXISTS console_test_lost()",
        )

    page = console.page
    console.open("/stuck")
    console.log_in(operator_email)
    page.get_by_label("Not final after (minutes)").fill("0.1")
    page.get_by_role("button", name="Show").click()
    group = page.get_by_role("article").filter(has_text="NOT_IN_PAYMENT")
    expect(group.get_by_role("heading")).to_contain_text("from Wallet", timeout=30_000)  # it polls
    expect(group).to_contain_text("Payment never accepted")
    expect(group).to_contain_text("Next action (yours)")
    expect(group).to_contain_text("replay the dead letter")
    console.check("stuck-wallet")

    group.get_by_role("link", name=f"Dead letters of payment {payment_id}").click()
    row = row_of(page, "handler-failed")
    expect(row).to_contain_text("PaymentInitiated")
    row.get_by_role("button", name=re.compile("^Replay ")).click()
    row.get_by_role("button", name="Confirm replay").click()
    expect(row.get_by_role("status")).to_contain_text("Replay: REPLAYED")
    assert customer.wait_final(payment_id, timeout=40)["status"] == "COMPLETED"


def test_an_operator_replays_a_dead_letter_and_a_filtered_set(
    console: ConsolePage, operator_email: str, infra: Infra, ops_api: httpx.Client
) -> None:
    """A record every group that handles its type rejects (schema-invalid): one group's copy is
    replayed from its row, another group's by a filter; both replays are on record."""
    key, ce_id = str(uuid.uuid4()), str(uuid.uuid4())
    headers = {
        "ce_specversion": "1.0",
        "ce_id": ce_id,
        "ce_type": "PaymentCompleted",
        "ce_source": "/paysaga/payment",
        "ce_time": datetime.now(UTC).isoformat(),
        "content-type": "application/json",
    }
    value = b'{"paymentId": "%s", "completedAt": "yesterday"}' % key.encode()
    produce_raw(
        infra.kafka, PAYMENT_EVENTS, key=key, value=value, headers=[(k, v.encode()) for k, v in headers.items()]
    )

    def dead() -> dict[str, dict[str, Any]] | None:
        items = ops_api.get("/ops/v1/dead-letters", params={"topic": PAYMENT_EVENTS, "key": key}).json()["items"]
        by_group = {i["consumerGroup"]: i for i in items}
        return by_group if {"query", "wallet"} <= by_group.keys() else None

    query = eventually(dead, "the poison record was not dead-lettered")["query"]

    page = console.page
    console.open(f"/dead-letters?key={key}&group=query")
    console.log_in(operator_email)
    row = row_of(page, f"{query['topic']}[{query['partition']}]@{query['offset']}")
    expect(row).to_contain_text("schema-invalid")
    expect(row).to_contain_text("never")
    console.check("dead-letters")
    row.get_by_role("button", name=re.compile("^Replay ")).click()
    row.get_by_role("button", name="Confirm replay").click()
    expect(row.get_by_role("status")).to_contain_text("Replay: REPLAYED")
    expect(row).to_contain_text("PUBLISHED")  # the list was read again

    console.open(f"/dead-letters?topic={PAYMENT_EVENTS}&group=wallet&reason=schema-invalid&ceType=PaymentCompleted")
    bulk = page.get_by_role("region", name="Replay every matching record")
    bulk.get_by_role("button", name="Replay matching records…").click()
    bulk.get_by_role("button", name="Confirm: replay them").click()
    expect(bulk.get_by_role("status")).to_contain_text(re.compile(r"Replayed [1-9]\d*, failed 0"))

    replays = ops_api.get("/ops/v1/replays", params={"ceId": ce_id}).json()["items"]
    assert {(r["consumerGroup"], r["status"]) for r in replays} >= {("query", "PUBLISHED"), ("wallet", "PUBLISHED")}


def test_the_fleet_shows_lag_and_backlog_live(console: ConsolePage, operator_email: str) -> None:
    page = console.page
    console.open("/fleet")
    console.log_in(operator_email)
    groups = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Members"))
    for group in ("payment", "wallet", "query", "dwh"):
        expect(groups.get_by_role("rowheader", name=group, exact=True)).to_be_visible()
    services = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Outbox pending"))
    expect(services.get_by_role("row").filter(has_text="payment").first).to_contain_text("up")
    lag_legend = page.get_by_role("list", name="Consumer lag legend")
    expect(lag_legend.get_by_role("listitem").filter(has_text=re.compile(r"^wallet: \d+ records$"))).to_be_visible()
    snapshot = page.get_by_text(re.compile("Last snapshot"))
    first = snapshot.inner_text()
    expect(snapshot).not_to_have_text(first, timeout=15_000)  # live: a new snapshot came
    console.check("fleet")
    page.get_by_role("button", name="Pause live updates").click()
    expect(page.get_by_role("button", name="Resume live updates")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_text(re.compile("Paused"))).to_be_visible()
