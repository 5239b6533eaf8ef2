"""API of opportunities."""

from ninja import Router

router = Router(tags=["opportunities"])
