"""``django.contrib.admin`` with openprep's role-gated site as ``admin.site``.

Listed in INSTALLED_APPS instead of ``django.contrib.admin`` (Django's documented way to
replace the default site), so every ``admin.register`` in any app lands on the gated site.
This module must not import models: it is loaded while the app registry is populated.
"""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class OpenprepAdminConfig(AdminConfig):
    default_site = "openprep.accounts.admin_site.OpenprepAdminSite"
