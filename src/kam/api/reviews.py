"""API of reviews."""

from ninja import Router

router = Router(tags=["reviews"])
