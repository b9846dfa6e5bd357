"""Notification service: tells the customer by SMS and push how their payment ended
(PaymentCompleted / PaymentFailed), exactly once per payment and channel, with retries, through
channel gateways that never slow the consumption of payment-events."""
