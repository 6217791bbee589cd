"""What the ``sklearn-asd`` commands do, one module per command (``_demo``, ``_fit``, ``_score``,
``_evaluate``; each one's ``main(args)``) and the model files they share (``_model``).

``sklearn_asd.cli`` parses the arguments and imports the command's module only then, so that
``--help`` and ``recipes`` do not wait for torch.
"""
