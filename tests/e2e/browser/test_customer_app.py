"""The customer app in Chromium against the real platform (SPEC §10): what a customer does, and
what they are told. Each main screen is checked with axe-core and photographed for the README."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, Response, expect

from tests.e2e.browser.screens import screen
from tests.support.platform import RunningPlatform
from tests.support.saga import BIC, PASSWORD, new_account, register

pytestmark = pytest.mark.e2e

PAYMENT_URL = re.compile(r"/payments/[0-9a-f-]{36}$")


@pytest.fixture
def sim(platform: RunningPlatform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url("provider_sim"), timeout=10) as c:
        c.delete("/_sim/rules")
        yield c
        c.delete("/_sim/rules")


@pytest.fixture
def api(app_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_url, timeout=10) as c:
        yield c


def sim_rule(sim: httpx.Client, account: str, outcome: str, delay_ms: int = 0) -> None:
    rules = [{"accountNumber": account, "outcome": outcome, "delayMs": delay_ms}]
    assert sim.put("/_sim/rules", json={"rules": rules}).status_code == 200


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1, name="Wallet")).to_be_visible()


def fill_payment(page: Page, amount: str, account: str, name: str = "Пётр Сидоров") -> None:
    page.get_by_role("link", name="Pay out").click()
    page.get_by_label("Amount").fill(amount)
    page.get_by_label("Recipient's account number").fill(account)
    page.get_by_label("Bank BIC").fill(BIC)
    page.get_by_label("Recipient's name").fill(name)
    page.get_by_role("button", name="Review").click()


def pay(page: Page, amount: str, account: str) -> str:
    fill_payment(page, amount, account)
    page.get_by_role("button", name="Confirm and pay").click()
    page.wait_for_url(PAYMENT_URL)
    return page.url.rsplit("/", 1)[1]


def outcome(page: Page, status: str) -> None:
    expect(page.get_by_test_id("outcome")).to_contain_text(status, timeout=30_000)


def test_register_top_up_pay_and_see_it_completed(page: Page, sim: httpx.Client) -> None:
    email = f"web-{uuid.uuid4().hex[:10]}@example.org"
    page.goto("/")
    expect(page).to_have_url(re.compile("/login$"))
    screen(page, "login")
    page.get_by_role("main").get_by_role("link", name="Register").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Full name").fill("Анна Иванова")
    page.get_by_label("Phone").fill("+79161234567")
    screen(page, "register")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Account created")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_test_id("balance")).to_have_text(re.compile(r"0[.,]00"))
    page.get_by_label("Amount").fill("1000")
    page.get_by_role("button", name="Top up").click()
    expect(page.get_by_role("status").filter(has_text="Topped up")).to_be_visible()
    expect(page.get_by_test_id("available")).to_contain_text("1,000.00")
    screen(page, "wallet")

    account = new_account()
    sim_rule(sim, account, "SUCCESS", delay_ms=2_500)  # long enough to watch it poll while pending
    fill_payment(page, "150.50", account)
    expect(page.get_by_role("heading", name="Confirm the payment")).to_be_visible()
    screen(page, "confirm")
    polls: list[int] = []
    page.on("response", lambda r: polls.append(r.status) if PAYMENT_URL.search(r.url.split("?")[0]) else None)
    page.get_by_role("button", name="Confirm and pay").click()
    page.wait_for_url(PAYMENT_URL)
    expect(page.get_by_role("list", name="Progress of the payment")).to_contain_text("Accepteddone")
    outcome(page, "Completed")
    tracker = page.get_by_role("list", name="Progress of the payment").get_by_role("listitem")
    expect(tracker).to_have_text(["✓Accepteddone", "✓Checkeddone", "✓Sent to the bankdone", "✓Completeddone"])
    expect(page.get_by_test_id("outcome")).to_contain_text("paid out to the recipient")
    screen(page, "payment-completed")
    assert 304 in polls, f"the page never revalidated with its ETag: {polls}"
    polled = len(polls)
    page.wait_for_timeout(2_500)  # the poll interval is 1 s: a poller that went on would show
    assert len(polls) == polled, "the page kept polling a final payment"

    page.get_by_role("link", name="Receipt").click()
    expect(page.get_by_role("heading", name="Payment receipt")).to_be_visible()
    expect(page.get_by_role("article")).to_contain_text(account)
    screen(page, "receipt")
    page.get_by_role("link", name="Wallet").click()
    expect(page.get_by_test_id("balance")).to_contain_text("849.50")


def test_refused_and_fraud_denied_payments_are_explained(
    page: Page, api: httpx.Client, sim: httpx.Client, platform: RunningPlatform
) -> None:
    customer = register(api, top_up=500_000)
    log_in(page, customer.email)
    declined = new_account()
    sim_rule(sim, declined, "DECLINE")  # the bank refuses the payout request: PROVIDER_REJECTED
    pay(page, "100", declined)
    outcome(page, "Failed")
    expect(page.get_by_test_id("explanation")).to_contain_text("bank did not accept the payment")
    expect(page.get_by_test_id("outcome")).to_contain_text("back in your available balance")
    steps = page.get_by_role("list", name="Progress of the payment").get_by_role("listitem")
    expect(steps.nth(2)).to_contain_text("Sent to the bankstopped here")
    screen(page, "payment-declined")

    blocked = new_account()
    answer = httpx.put(f"{platform.url('antifraud')}/v1/blocklist/{blocked}", auth=platform.auth("antifraud"))
    assert answer.status_code in (200, 201, 204), answer.text
    pay(page, "200", blocked)
    outcome(page, "Failed")
    expect(page.get_by_test_id("explanation")).to_contain_text("security check stopped this payment")
    expect(steps.nth(1)).to_contain_text("Checkedstopped here")
    screen(page, "payment-fraud")


def test_a_double_click_on_confirm_makes_one_payment(page: Page, api: httpx.Client) -> None:
    customer = register(api, top_up=100_000)
    log_in(page, customer.email)
    posts: list[Response] = []
    page.on(
        "response", lambda r: posts.append(r) if r.request.method == "POST" and "/api/v1/payments" in r.url else None
    )
    fill_payment(page, "10", new_account())
    page.get_by_role("button", name="Confirm and pay").dblclick()
    page.wait_for_url(PAYMENT_URL)
    payment_id = page.url.rsplit("/", 1)[1]
    customer.wait_final(payment_id)
    history = api.get("/api/v1/payments", headers=customer.auth).json()
    assert [p["paymentId"] for p in history["items"]] == [payment_id]
    assert customer.settled_wallet()["balance"] == 100_000 - 1_000
    assert len({r.request.headers["idempotency-key"] for r in posts}) == 1


def test_insufficient_funds_is_shown_at_the_form(page: Page, api: httpx.Client) -> None:
    customer = register(api, top_up=50_000)
    log_in(page, customer.email)
    fill_payment(page, "600", new_account())  # more than the 500.00 available: caught in the browser
    amount = page.get_by_label("Amount")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_accessible_description(re.compile("more than is available"))
    expect(page.get_by_role("alert").filter(has_text="Please correct 1 field")).to_be_visible()
    screen(page, "pay-invalid")

    # The form passes, then the money goes elsewhere before the confirmation: the server refuses.
    page.get_by_label("Amount").fill("400")
    page.get_by_role("button", name="Review").click()
    assert customer.pay(30_000, new_account()).status_code == 202
    page.get_by_role("button", name="Confirm and pay").click()
    expect(page.get_by_label("Amount")).to_have_accessible_description(re.compile("Not enough money available"))
    expect(page).to_have_url(re.compile("/pay$"))


def test_history_pages_and_filters(page: Page, api: httpx.Client, sim: httpx.Client) -> None:
    customer = register(api, top_up=1_000_000)
    declined = new_account()
    sim_rule(sim, declined, "DECLINE")
    paid = [customer.pay(100 * (n + 1), new_account()).json()["paymentId"] for n in range(11)]
    failed = customer.pay(5_000, declined).json()["paymentId"]
    for payment_id in [*paid, failed]:
        customer.wait_final(payment_id)
    log_in(page, customer.email)
    page.get_by_role("link", name="History").click()
    rows = page.get_by_test_id("history-row")
    expect(rows).to_have_count(10)
    expect(rows.first).to_contain_text("50.00")  # newest first: the declined one
    expect(rows.first).to_contain_text("Failed")
    screen(page, "history")
    page.get_by_role("button", name="Show older payments").click()
    expect(rows).to_have_count(12)
    expect(rows.last).to_contain_text("1.00")  # the first payment, 100 kopecks
    expect(page.get_by_role("button", name="Show older payments")).to_have_count(0)

    page.get_by_label("Status").select_option("FAILED")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("50.00")
    expect(page).to_have_url(re.compile(r"/payments\?status=FAILED$"))
    page.get_by_label("Status").select_option("COMPLETED")
    expect(rows).to_have_count(10)
    expect(page.get_by_role("button", name="Show older payments")).to_be_visible()


def test_switching_language_is_remembered(page: Page, api: httpx.Client) -> None:
    customer = register(api, top_up=10_000)
    log_in(page, customer.email)
    page.get_by_role("button", name="Language: Русский").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Кошелёк")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("link", name="История")).to_be_visible()
    screen(page, "wallet-ru")
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Кошелёк")
    page.get_by_role("button", name="Язык: English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wallet")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile("/login$"))
    page.goto("/wallet")  # no session: back to the login page
    expect(page).to_have_url(re.compile("/login$"))
