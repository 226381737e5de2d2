from django import template

register = template.Library()


@register.filter
def display_name(user) -> str:
    """A user's full name, or their username; "nobody" for no user."""
    if user is None:
        return "nobody"
    return user.get_full_name() or user.get_username()


@register.filter
def field_label(form, name: str) -> str:
    """The label of a form's field, by name."""
    field = form.fields.get(name)
    return field.label if field else name
