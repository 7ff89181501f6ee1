from django.urls import path, re_path

from . import (
    api,
    api_calibration,
    api_opencoding,
    api_report,
    views,
    views_calibration,
    views_opencoding,
    views_raters,
    views_report,
    views_tables,
)

P = "projects/<slug:slug>/"
RP = r"^projects/(?P<slug>[-a-zA-Z0-9_]+)/"
CHART = r"(?P<fmt>svg|png|pdf)$"
TABLE = r"(?P<fmt>csv|tex)$"

urlpatterns = [
    path(f"{P}agreement/", views.agreement, name="analysis-agreement"),
    re_path(
        rf"{RP}agreement/tables/(?P<name>[a-z]+)\.{TABLE}",
        views.agreement_table,
        name="analysis-agreement-table",
    ),
    re_path(
        rf"{RP}agreement/chart\.{CHART}", views.agreement_chart, name="analysis-agreement-chart"
    ),
    path(f"{P}agreement/raters/", views_raters.rater_agreement, name="analysis-rater-agreement"),
    path(f"{P}distributions/", views.distributions, name="analysis-distributions"),
    re_path(
        rf"{RP}distributions/charts/(?P<view>[a-z0-9]+)/(?P<kind>[a-z]+)\.{CHART}",
        views.distribution_chart,
        name="analysis-distribution-chart",
    ),
    # Before the general table route, which would take "rq4-shares" for a view's name.
    re_path(
        rf"{RP}distributions/tables/(?P<view>[a-z0-9]+)-shares\.{TABLE}",
        views_tables.distribution_shares,
        name="analysis-distribution-shares",
    ),
    re_path(
        rf"{RP}distributions/tables/(?P<name>[a-z0-9-]+)\.{TABLE}",
        views.distribution_table,
        name="analysis-distribution-table",
    ),
    path(f"{P}reporting/", views_report.reporting, name="analysis-reporting"),
    path(f"{P}planner/", views_opencoding.planner, name="analysis-planner"),
    path(f"{P}saturation/", views_opencoding.saturation, name="analysis-saturation"),
    re_path(
        rf"{RP}saturation/chart\.{CHART}",
        views_opencoding.saturation_chart,
        name="analysis-saturation-chart",
    ),
    re_path(
        rf"{RP}saturation/table\.{TABLE}",
        views_opencoding.saturation_table_download,
        name="analysis-saturation-table",
    ),
    path(f"{P}calibration/gold/", views_calibration.gold_set, name="calibration-gold"),
    path(f"{P}calibration/gold/change/", views_calibration.gold_change, name="calibration-change"),
    path(f"{P}calibration/", views_calibration.calibration_label, name="calibration-label"),
    path(
        f"{P}calibration/tries/<int:number>/",
        views_calibration.calibration_feedback,
        name="calibration-feedback",
    ),
    path(f"api/{P}calibration/gold/", api_calibration.gold, name="api-calibration-gold"),
    path(
        f"api/{P}calibration/gold/<int:item_id>/",
        api_calibration.gold_item,
        name="api-calibration-gold-item",
    ),
    path(
        f"api/{P}calibration/settings/",
        api_calibration.settings,
        name="api-calibration-settings",
    ),
    path(
        f"api/{P}calibration/members/<int:membership_id>/",
        api_calibration.member,
        name="api-calibration-member",
    ),
    path(f"api/{P}calibration/mine/", api_calibration.mine, name="api-calibration-mine"),
    path(f"api/{P}agreement/", api.agreement, name="api-agreement"),
    path(f"api/{P}planner/", api_opencoding.planner, name="api-planner"),
    path(f"api/{P}saturation/", api_opencoding.saturation, name="api-saturation"),
    path(f"api/{P}agreement/raters/", views_raters.rater_agreement_api, name="api-rater-agreement"),
    path(f"api/{P}report/methods/", api_report.methods, name="api-report-methods"),
    path(f"api/{P}distribution/", api.distribution, name="api-distribution"),
]
