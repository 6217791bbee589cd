"""Docstring fragments shared by estimators, filled in by :class:`Substitution`."""


class Substitution:
    """Fill the ``{name}`` placeholders of a class's or function's docstring.

    imbalanced-learn's decorator (``imblearn.utils._docstring.Substitution``), which shares one
    text for a parameter that several estimators take; here only the named placeholders are
    replaced (not ``str.format``), so that literal braces in a docstring (``{"mean", "max"}``)
    stay as written. Robust to ``python -OO`` (no docstring).
    """

    def __init__(self, **params):
        self.params = params

    def __call__(self, obj):
        if obj.__doc__:
            doc = obj.__doc__
            for name, text in self.params.items():
                doc = doc.replace("{" + name + "}", text)
            obj.__doc__ = doc
        return obj
