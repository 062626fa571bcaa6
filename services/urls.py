"""The service network's directory: ``/services/``."""

from django.urls import path

from services import views

urlpatterns = [
    path("", views.service_directory, name="service_directory"),
    path("cards/", views.service_cards_to_confirm, name="service_cards_to_confirm"),
    path("network/", views.service_network, name="service_network"),
    path("<int:service_id>/", views.service_card_detail, name="service_card"),
    path("<int:service_id>/print/", views.service_card_print, name="service_card_print"),
    path("<int:service_id>/edit/", views.service_card_edit, name="service_card_edit"),
]
