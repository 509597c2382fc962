"""Routes of the drill links (``mamori.drills.links`` builds them), at the root of the drill host."""

from django.urls import path

from mamori.drills.tracking import views

app_name = "tracking"

urlpatterns = [
    path("c/<str:delivery_token>", views.click, name="click"),
    path("q/<str:delivery_token>", views.qr_scan, name="qr-scan"),
    path("a/<str:delivery_token>", views.attachment, name="attachment"),
    path("o/<str:delivery_token>.gif", views.open_pixel, name="open-pixel"),
    path("x/<str:delivery_token>", views.trap, name="trap"),
    path("cf/<str:delivery_token>", views.confirm, name="confirm"),
]
