from ninja import Router

router = Router(tags=["warnings"])
