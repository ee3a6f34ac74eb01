"""Pricing helpers for the order service (amounts in cents).

Revision: r{{ rev }}
"""


def line_total(price_cents, qty):
    """Price of one order line."""
    {{ line_total }}


def discount(amount_cents, percent):
    """Amount after a percentage discount, rounded half up."""
    {{ discount }}


def tax(amount_cents, rate_percent):
    """Tax on an amount, rounded half up."""
    {{ tax }}


def order_total(lines, percent_off, rate_percent):
    """Total of (price_cents, qty) lines after the discount, plus tax."""
    {{ order_total }}
    return net + tax(net, rate_percent)
