"""How every form renders: one field group markup for the whole console (`{{ form }}` in a template)."""

from django.forms.renderers import TemplatesSetting


class ConsoleFormRenderer(TemplatesSetting):
    form_template_name = "core/form.html"
    field_template_name = "core/field.html"
