from django.urls import path

from figures import views

urlpatterns = [
    path("", views.dashboard, name="figures_dashboard"),
    path("export/<slug:key>/", views.export_table, name="figures_export"),
    path("late/<slug:kind>/", views.late_items, name="figures_late"),
    path("annual-return/", views.annual_return_page, name="figures_annual_return"),
]
