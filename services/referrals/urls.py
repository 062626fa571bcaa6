"""Referral pages, mounted at /referrals/ (docs/adr/0029-referrals.md). The referral form names its case, so it is
in the access matrix's case URLs too."""

from django.urls import path

from services.referrals import views

urlpatterns = [
    path("", views.referral_list, name="referral_list"),
    path("case/<uuid:case_id>/new/", views.referral_new, name="referral_new"),
    path("<uuid:referral_id>/", views.referral_detail, name="referral_detail"),
    path("<uuid:referral_id>/accept/", views.referral_accept, name="referral_accept"),
    path("<uuid:referral_id>/waitlist/", views.referral_waitlist, name="referral_waitlist"),
    path("<uuid:referral_id>/decline/", views.referral_decline, name="referral_decline"),
    path("<uuid:referral_id>/withdraw/", views.referral_withdraw, name="referral_withdraw"),
]
