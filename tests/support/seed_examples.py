"""The create calls of Portkey's API reference page (the seed document), as keyword arguments."""

DEPLOYMENT = {"deploymentName": "<deployment_name>", "is_default": True, "apiVersion": "2024-08-01-preview"}

SEED_EXAMPLES = {
    "openai": dict(name="openaiVKey", provider="openai", key="PROVIDER_API_KEY"),
    "azure-default": dict(
        name="Azure-Virtual-Default",
        provider="azure-openai",
        note="Azure Note",
        key="<api_key>",
        resourceName="<resource_name>",
        deploymentConfig=[
            {"apiVersion": "2024-08-01-preview", "deploymentName": "DeploymentName", "is_default": True},
            {"apiVersion": "2024-08-01-preview", "deploymentName": "DeploymentNam2e", "is_default": False},
        ],
    ),
    "azure-entra": dict(
        name="Azure-Virtual-entra",
        provider="azure-openai",
        note="azure entra",
        resourceName="<resource_name>",
        deploymentConfig=[DEPLOYMENT],
        azureAuthMode="entra",
        azureEntraClientId="<client_id>",
        azureEntraClientSecret="<client_secret>",
        azureEntraTenantId="<tenantId>",
    ),
    "azure-managed": dict(
        name="Azure-Virtual-entra",
        provider="azure-openai",
        note="azure entra",
        resourceName="<resource_name>",
        deploymentConfig=[DEPLOYMENT],
        azureAuthMode="managed",
        azureManagedClientId="<client-id>",
    ),
    "bedrock-assumed-role": dict(
        name="bedrock-assumed",
        provider="bedrock",
        note="bedrock",
        awsRegion="<region>",
        awsAuthType="assumedRole",
        awsRoleArn="arn:aws:iam::<account_id>:role/<role_name>",
        awsExternalId="<external_id>",
    ),
}
