"""Suite-wide fixtures. Each concern lives in its own plugin module under tests/plugins/."""

pytest_plugins = [
    "tests.plugins.services",
    "tests.plugins.people",
    "tests.plugins.audit_triggers",
    "tests.plugins.language",
]
