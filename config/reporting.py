"""Django's error reports with their secrets hidden under DEBUG too.

Django's SafeExceptionReporterFilter honours sensitive_post_parameters and
sensitive_variables only when DEBUG is off. A local deployment with DEBUG on (the
default of `make run`) still receives real secrets: a machine rater's endpoint key, typed
into the raters page, would be printed in clear on the technical 500 page among the POST
data and the frames' variables. This filter hides what the views and functions declare
sensitive whatever DEBUG says; the rest of the page is unchanged."""

from django.views.debug import SafeExceptionReporterFilter


class SecretsHiddenFilter(SafeExceptionReporterFilter):
    def is_active(self, request):
        return True
