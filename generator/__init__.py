"""Renders the product template with troposphere and awacs: `python -m generator render --out templates`.

`generator.template.build_template(config)` composes one `add_<group>` per module. `generator.validation` is
the parameter validator the stand-in and the commands share; it stays free of troposphere, so this file
imports nothing.
"""
