"""The fake login page's look: the scenario's own, or the defaults; and its colours as a stylesheet.

CSP allows no inline style, so a ward's colours reach the page as a small stylesheet served by mamori
(``learning:look``). Only colours that are exactly ``#rrggbb`` are written into it: nothing an
administrator types can become CSS of its own.
"""

import re

from mamori.learning.models import LandingPage

COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
DARK_TEXT = "#1f2328"
LIGHT_TEXT = "#ffffff"


def look_for(scenario) -> LandingPage:
    """The scenario's saved look, or an unsaved one with the default texts and colours."""
    if scenario.pk is not None:
        saved = LandingPage.objects.filter(scenario=scenario).first()
        if saved is not None:
            return saved
    return LandingPage(scenario=scenario, organization_id=scenario.organization_id)


def safe_colour(value: str, default: str) -> str:
    return value.lower() if COLOUR.fullmatch(value or "") else default


def text_colour_on(background: str) -> str:
    """Dark or white text, whichever reads better on ``background`` (WCAG relative luminance)."""

    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(background[index : index + 2]) for index in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    # Contrast with white is (1.05)/(L+0.05), with the dark ink about (L+0.05)/(0.0167+0.05).
    return LIGHT_TEXT if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.0667 else DARK_TEXT


def stylesheet(look: LandingPage) -> str:
    """The colours of ``look`` as CSS overriding ``static/learning/landing.css``."""
    defaults = LandingPage.DEFAULTS
    header = safe_colour(look.header_colour, defaults["header_colour"])
    button = safe_colour(look.button_colour, defaults["button_colour"])
    background = safe_colour(look.background_colour, defaults["background_colour"])
    return (
        f"body.portal {{ background: {background}; color: {text_colour_on(background)}; }}\n"
        f".portal-bar {{ background: {header}; color: {text_colour_on(header)}; }}\n"
        f".login-button {{ background: {button}; border-color: {button}; color: {text_colour_on(button)}; }}\n"
    )
