"""The password rules of AUTH_PASSWORD_VALIDATORS that read KAM settings."""

from django.contrib.auth import password_validation

from kam.core.conf import config


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's minimum length, at KAM["PASSWORD_MIN_LENGTH"] — read at each check, because
    Django builds its validators once per process."""

    def __init__(self):
        pass

    @property
    def min_length(self) -> int:
        return config().PASSWORD_MIN_LENGTH
