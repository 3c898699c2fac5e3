"""Service Catalog as the stand-in answers it, on top of moto's portfolios and products: provisioning
artifacts, associations, constraints, principals, launch paths, and provisioning (a CloudFormation stack
per product)."""

from standin.servicecatalog import portfolios, products, provisioned_products  # noqa: F401 - registers handlers
