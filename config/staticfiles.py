"""Which apps' static files the product collects and serves.

viewflow ships a vendored Material theme (CSS, fonts, JavaScript) for its own frontend, which the product does not use:
our pages and the flow charts (rendered as SVG inside our own templates) need none of it. Its stylesheets reference
Roboto font files the package does not ship, so whitenoise's manifest storage — rightly — fails the whole
``collectstatic`` on them, and without a manifest every page answers 500.

We leave viewflow's files out of collection rather than loosen the storage: a storage that tolerated missing
references would also hide a broken reference in our own CSS, and serving unused third-party assets only widens what
the site exposes. If the product ever mounts viewflow's own frontend, its assets must be collected (and fixed) first.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.apps import apps
from django.contrib.staticfiles.finders import AppDirectoriesFinder

#: Installed apps whose ``static/`` folder is not collected (see the module docstring).
UNCOLLECTED_APPS = frozenset({"viewflow", "viewflow.workflow"})


class ProductAppDirectoriesFinder(AppDirectoriesFinder):
    """Django's app-directories finder over every installed app except :data:`UNCOLLECTED_APPS`."""

    def __init__(self, app_names: Sequence[str] | None = None, *args: object, **kwargs: object) -> None:
        if app_names is None:
            app_names = [config.name for config in apps.get_app_configs() if config.name not in UNCOLLECTED_APPS]
        super().__init__(app_names, *args, **kwargs)
