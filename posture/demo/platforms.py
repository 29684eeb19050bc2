"""The demo account's platforms (issue 18): the workloads' Kubernetes and serverless front doors.

Planted:

* ``shop-eks``: an EKS cluster whose API endpoint is public and open to 0.0.0.0/0 (no private
  access), secrets not envelope-encrypted, only the api log type on, Kubernetes 1.32 (past
  standard support), and a node group ``shop-eks/workers`` with an SSH key and no source security
  groups (EKS opens tcp/22 to the world on the nodes' security group).
* ``shop-api`` (ECR): a repository policy letting every AWS principal pull its images, scan on
  push off, no lifecycle policy.
* ``webhook-receiver``: a Lambda function URL with AuthType NONE whose policy grants everyone
  lambda:InvokeFunctionUrl: anyone on the internet can call it.

Inspector is enabled for EC2 and ECR in both demo regions; no instance runs the SSM agent (the
emulated Systems Manager answers say so), so Inspector covers none of them.

Traps: ``base-images`` (ECR), whose wildcard pull grant is limited to the organisation by
``aws:PrincipalOrgID`` - not public (and scanned on push, immutable tags, pruned); ``dev-eks``,
a private-only cluster in the development VPC, which is peered with production, its security
group admitting tcp/443 from 10.0.0.0/8: not reachable from the internet; reached from the
development VPC, while production, routed to it by the peering, is kept out at the return
route (the development VPC has no route back).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

INSPECTED_REGIONS = ("us-east-1", "eu-west-1")  # the demo's regions


def platforms(client: Callable[..., Any], net: dict[str, Any]) -> None:
    iam = client("iam")
    account = client("sts").get_caller_identity()["Account"]
    for region in INSPECTED_REGIONS:  # moto needs the account named
        client("inspector2", region).enable(accountIds=[account], resourceTypes=["EC2", "ECR"])
    eks_role = iam.create_role(RoleName="eks-cluster", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"},
                       "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    eks = client("eks")
    eks.create_cluster(
        name="shop-eks", version="1.32", roleArn=eks_role,
        resourcesVpcConfig={"subnetIds": [net["private_a"], net["private_b"]],
                            "endpointPublicAccess": True, "endpointPrivateAccess": False,
                            "publicAccessCidrs": ["0.0.0.0/0"]},
        logging={"clusterLogging": [{"types": ["api"], "enabled": True}]},
        tags={"Environment": "production"},
    )
    eks.create_nodegroup(
        clusterName="shop-eks", nodegroupName="workers", version="1.32",
        subnets=[net["private_a"], net["private_b"]], nodeRole=eks_role,
        remoteAccess={"ec2SshKey": "ops"}, amiType="AL2023_x86_64_STANDARD",
        releaseVersion="1.32.9-20251016",
    )
    api_sg = client("ec2").create_security_group(
        GroupName="dev-eks-api", Description="dev-eks API from the private ranges",
        VpcId=net["dev"])["GroupId"]
    client("ec2").authorize_security_group_ingress(GroupId=api_sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
        "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "443 from the private ranges"}]}])
    eks.create_cluster(
        name="dev-eks", version="1.35", roleArn=eks_role,
        resourcesVpcConfig={"subnetIds": [net["dev_a"]], "endpointPublicAccess": False,
                            "endpointPrivateAccess": True, "securityGroupIds": [api_sg]},
        encryptionConfig=[{"resources": ["secrets"], "provider": {
            "keyArn": f"arn:aws:kms:us-east-1:{account}:key/dev-eks-secrets"}}],
        logging={"clusterLogging": [{"types": ["api", "audit", "authenticator"],
                                     "enabled": True}]},
        tags={"Environment": "dev"},
    )
    _registries(client("ecr"))
    fn_role = iam.get_role(RoleName="billing-export-fn")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handle(event, context):\n    return 204\n")
    lam = client("lambda")
    lam.create_function(FunctionName="webhook-receiver", Runtime="python3.12", Role=fn_role,
                        Handler="handler.handle", Code={"ZipFile": code.getvalue()})
    lam.create_function_url_config(FunctionName="webhook-receiver", AuthType="NONE")
    lam.add_permission(FunctionName="webhook-receiver", StatementId="FunctionURLAllowPublicAccess",
                       Action="lambda:InvokeFunctionUrl", Principal="*",
                       FunctionUrlAuthType="NONE")


def _registries(ecr: Any) -> None:
    pull = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    org_only = {"StringEquals": {"aws:PrincipalOrgID": "o-demo1234"}}
    for name, condition in (("shop-api", None), ("base-images", org_only)):
        kept = condition is not None  # the well-kept one: scanned, immutable, pruned
        ecr.create_repository(repositoryName=name,
                              imageScanningConfiguration={"scanOnPush": kept},
                              imageTagMutability="IMMUTABLE" if kept else "MUTABLE")
        if kept:
            ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=json.dumps(
                {"rules": [{"rulePriority": 1, "description": "keep 30 images",
                            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                                          "countNumber": 30}, "action": {"type": "expire"}}]}))
        statement: dict[str, Any] = {"Sid": "pull", "Effect": "Allow", "Principal": "*",
                                     "Action": pull}
        if condition:
            statement["Condition"] = condition
        ecr.set_repository_policy(repositoryName=name, policyText=json.dumps(
            {"Version": "2012-10-17", "Statement": [statement]}))
