"""ASGI entry point: HTTP through Django, websockets through Channels (session-authenticated, origin-checked)."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from config.origin import SameOriginValidator  # noqa: E402
from config.websocket_urls import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# A full garbage collection walks every object the process holds, and most of them are the code and configuration
# loaded at start-up (Django, the apps, the URLconf's views: about 180 000 objects), which live as long as the process.
# Each such collection paused the event loop for 150-190 ms on a loaded 2-core machine, every socket of the process
# waiting (the bench's notification tail, README "Performance"). Loaded now and frozen, they are left out of every
# later collection (which then takes about half as long); objects freed by reference counting are freed as before.
get_resolver().url_patterns  # noqa: B018 - imports every view now rather than on the first request
gc.collect()
gc.freeze()
