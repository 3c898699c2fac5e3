"""Service Quotas' ``ListServiceQuotas`` as `sm-mlops preflight` reads it (moto does not answer it): the
stand-in account's SageMaker quotas, a fixed table (AWS's values differ by account and region) covering the
instance types the seed code uses."""

from __future__ import annotations

from standin.dispatch import Context, operation

# (instance type, usage) -> quota value of the stand-in's account.
SAGEMAKER_QUOTAS = {
    (instance, usage): 2.0
    for instance in ("ml.m5.large", "ml.m5.xlarge", "ml.t3.medium")
    for usage in ("processing job usage", "training job usage", "endpoint usage")
}


@operation("servicequotas", "ListServiceQuotas")
def list_service_quotas(ctx: Context, params: dict) -> dict:
    if params.get("ServiceCode") != "sagemaker":
        return {"Quotas": []}
    quotas = [
        {
            "ServiceCode": "sagemaker",
            "ServiceName": "Amazon SageMaker",
            "QuotaCode": f"L-STANDIN{index:04d}",
            "QuotaArn": f"arn:aws:servicequotas:{ctx.region}:{ctx.account_id}:sagemaker/L-STANDIN{index:04d}",
            "QuotaName": f"{instance} for {usage}",
            "Value": value,
            "Unit": "None",
            "Adjustable": True,
            "GlobalQuota": False,
        }
        for index, ((instance, usage), value) in enumerate(sorted(SAGEMAKER_QUOTAS.items()))
    ]
    return {"Quotas": quotas}
