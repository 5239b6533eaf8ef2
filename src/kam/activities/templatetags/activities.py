from django import template

register = template.Library()

# One colour per kind, so a timeline reads at a glance: face to face in blue and green,
# at a distance in grey, commercial steps in orange and red.
KIND_BADGE = {
    "visit": ("bg-blue-lt", "◉"),
    "call": ("bg-secondary-lt", "☎"),
    "letter": ("bg-secondary-lt", "✉"),
    "meeting": ("bg-green-lt", "◎"),
    "demo": ("bg-cyan-lt", "▶"),
    "quote": ("bg-orange-lt", "¥"),
    "bid": ("bg-red-lt", "§"),
    "event": ("bg-purple-lt", "★"),
}


@register.filter
def kind_badge(kind: str) -> str:
    return KIND_BADGE.get(kind, ("bg-secondary-lt", "•"))[0]


@register.filter
def kind_icon(kind: str) -> str:
    return KIND_BADGE.get(kind, ("bg-secondary-lt", "•"))[1]
