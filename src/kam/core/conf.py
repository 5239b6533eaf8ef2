"""Domain defaults, read from settings.KAM so that every number is configurable."""

from django.conf import settings


def kam_setting(key: str):
    return settings.KAM[key]
