"""Helpers of the deal-review tests: a general manager, a tracking sheet, an item taken
through the manager's and the director's recommendations."""

from __future__ import annotations

from factories import Role, user
from kam.sales.reviews import services as reviews

SHEET = {
    "brief": "华南地区制造业龙头，年营收约 30 亿元",
    "core_needs": "园区专线扩容与双路由备份",
    "main_problems": "竞争对手报价低 15%，采购部倾向对手",
    "proposed_strategy": "高层拜访 + 技术交流会，突出 SLA 与本地化服务",
}


def make_gm(org):
    return user("gm", Role.GENERAL_MANAGER, org.hq, display_name="赵总")


def submit(actor, opportunity, **kw):
    return reviews.review_submit(actor=actor, opportunity=opportunity, **{**SHEET, **kw})


def through_director(org, review):
    reviews.review_recommend_as_manager(actor=org.manager_a, review=review, recommendation="建议跟进，申请价格支持")
    return reviews.review_recommend_as_director(actor=org.director, review=review, recommendation="同意，总部技术支持")
