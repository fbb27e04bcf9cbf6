"""The impCentral resources, one module per family; ``ROUTES`` is every API route."""

from __future__ import annotations

from . import accounts, deployments, devicegroups, devices, logs, products, webhooks

ROUTES = [
    *accounts.ROUTES,
    *products.ROUTES,
    *devicegroups.ROUTES,
    *devices.ROUTES,
    *deployments.ROUTES,
    *logs.ROUTES,
    *webhooks.ROUTES,
]
