//! Billed data transfer, as Cost Explorer groups it: per day, usage type and operation.

use rust_decimal::Decimal;

/// One Cost Explorer group for one day (or period).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillLine {
    /// First and last (exclusive) day of the period, as days since 1970-01-01.
    pub start_day: i32,
    pub end_day: i32,
    pub usage_type: String,
    pub operation: String,
    /// `UsageQuantity`: GB for data-transfer usage types.
    pub usage: Decimal,
    pub usage_unit: String,
    /// `UnblendedCost` in USD (after discounts applied to unblended rates).
    pub cost: Decimal,
    pub estimated: bool,
}

/// What a usage type and operation bill for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TransferKind {
    /// Inter-AZ, received (`InterZone-In`, `…-DataTransfer-xAZ-In-Bytes`).
    InterAzIn,
    /// Inter-AZ, sent (`InterZone-Out`, `…-DataTransfer-xAZ-Out-Bytes`).
    InterAzOut,
    /// Regional transfer that is not inter-AZ private traffic (public or Elastic IPs, VPC peering).
    RegionalOther,
    /// NAT gateway data processing.
    NatProcessing,
    /// Internet or inter-region transfer, CloudFront.
    NotRegional,
    /// Anything else (instance hours, storage, …).
    NotTransfer,
}

impl TransferKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransferKind::InterAzIn => "inter-az-in",
            TransferKind::InterAzOut => "inter-az-out",
            TransferKind::RegionalOther => "regional-other",
            TransferKind::NatProcessing => "nat-processing",
            TransferKind::NotRegional => "not-regional",
            TransferKind::NotTransfer => "not-transfer",
        }
    }
}

/// Strips a region prefix (`APN2-`, `USE1-`, `EU-`, …) from a usage type.
fn without_region(usage_type: &str) -> &str {
    match usage_type.split_once('-') {
        Some((p, rest)) if p.len() <= 4 && p.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) && p.bytes().any(|b| b.is_ascii_uppercase()) => rest,
        _ => usage_type,
    }
}

/// Classifies a Cost Explorer (USAGE_TYPE, OPERATION) pair.
pub fn classify(usage_type: &str, operation: &str) -> TransferKind {
    let u = without_region(usage_type);
    if u == "DataTransfer-Regional-Bytes" {
        return match operation {
            "InterZone-In" => TransferKind::InterAzIn,
            "InterZone-Out" => TransferKind::InterAzOut,
            _ => TransferKind::RegionalOther,
        };
    }
    if u == "DataTransfer-xAZ-In-Bytes" {
        return TransferKind::InterAzIn;
    }
    if u == "DataTransfer-xAZ-Out-Bytes" {
        return TransferKind::InterAzOut;
    }
    if u.starts_with("NatGateway-Bytes") {
        return TransferKind::NatProcessing;
    }
    if u.ends_with("-Bytes") && (u.contains("DataTransfer-") || u.contains("AWS-") || u.contains("CloudFront")) {
        return TransferKind::NotRegional;
    }
    TransferKind::NotTransfer
}

/// The usage type of inter-AZ transfer in a region as the bill names it (`APN2-DataTransfer-Regional-Bytes`;
/// no prefix in us-east-1 or an unknown region).
pub fn regional_transfer_usage_type(region: Option<&str>) -> String {
    match region.and_then(region_prefix) {
        Some(p) if !p.is_empty() => format!("{p}-DataTransfer-Regional-Bytes"),
        _ => "DataTransfer-Regional-Bytes".into(),
    }
}

/// The Cost Explorer usage-type prefix of a region (`APN2` for ap-northeast-2); us-east-1 has none.
pub fn region_prefix(region: &str) -> Option<&'static str> {
    let p = match region {
        "us-east-1" => "",
        "us-east-2" => "USE2",
        "us-west-1" => "USW1",
        "us-west-2" => "USW2",
        "ca-central-1" => "CAN1",
        "ca-west-1" => "CAN2",
        "eu-west-1" => "EU",
        "eu-west-2" => "EUW2",
        "eu-west-3" => "EUW3",
        "eu-central-1" => "EUC1",
        "eu-central-2" => "EUC2",
        "eu-north-1" => "EUN1",
        "eu-south-1" => "EUS1",
        "eu-south-2" => "EUS2",
        "ap-northeast-1" => "APN1",
        "ap-northeast-2" => "APN2",
        "ap-northeast-3" => "APN3",
        "ap-southeast-1" => "APS1",
        "ap-southeast-2" => "APS2",
        "ap-south-1" => "APS3",
        "ap-east-1" => "APE1",
        "sa-east-1" => "SAE1",
        "me-south-1" => "MES1",
        "me-central-1" => "MEC1",
        "af-south-1" => "AFS1",
        "il-central-1" => "ILC1",
        "us-gov-west-1" => "UGW1",
        "us-gov-east-1" => "UGE1",
        _ => return None,
    };
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_usage_types() {
        assert_eq!(classify("APN2-DataTransfer-Regional-Bytes", "InterZone-In"), TransferKind::InterAzIn);
        assert_eq!(classify("DataTransfer-Regional-Bytes", "InterZone-Out"), TransferKind::InterAzOut);
        assert_eq!(classify("APN2-DataTransfer-Regional-Bytes", "PublicIP-Out"), TransferKind::RegionalOther);
        assert_eq!(classify("USE1-DataTransfer-xAZ-In-Bytes", ""), TransferKind::InterAzIn);
        assert_eq!(classify("EUW2-DataTransfer-xAZ-Out-Bytes", ""), TransferKind::InterAzOut);
        assert_eq!(classify("APN2-NatGateway-Bytes", "NatGateway"), TransferKind::NatProcessing);
        assert_eq!(classify("EUW2-DataTransfer-Out-Bytes", ""), TransferKind::NotRegional);
        assert_eq!(classify("EUW2-USE1-AWS-Out-Bytes", ""), TransferKind::NotRegional);
        assert_eq!(classify("BoxUsage:m5.large", "RunInstances"), TransferKind::NotTransfer);
        assert_eq!(classify("USE1-DataProcessing-Bytes", ""), TransferKind::NotTransfer);
        assert_eq!(region_prefix("ap-northeast-2"), Some("APN2"));
        assert_eq!(region_prefix("us-east-1"), Some(""));
    }
}

/// Inter-AZ charges of one resource on one day, as a CUR or FOCUS export bills them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceCharge {
    /// `YYYY-MM-DD` of the charge period's start.
    pub date: String,
    pub account: String,
    pub region: String,
    /// The instance, NAT gateway, database or load balancer; `None` when the export has no resource IDs.
    pub resource_id: Option<String>,
    pub usage_type: String,
    /// `InterZone-In` or `InterZone-Out`; `None` when the export does not say (FOCUS without `x_Operation`).
    pub operation: Option<String>,
    /// GB (2^30 bytes), as billed.
    pub usage_gb: Decimal,
    /// Unblended (CUR) or billed (FOCUS) cost, USD.
    pub cost_usd: Decimal,
    /// Net unblended (CUR) or effective (FOCUS) cost, when the export has it.
    pub effective_usd: Option<Decimal>,
    /// Export rows summed into this one.
    pub rows: u64,
    /// The resource's tags on the bill (`resource_tags`, `Tags`, `resourceTags/…`).
    pub tags: std::collections::BTreeMap<String, String>,
}

impl ResourceCharge {
    /// A line at $0 (and no effective cost): a path AWS does not charge, such as an ALB's traffic
    /// with its targets. Not billed transfer, nothing to allocate.
    pub fn is_free(&self) -> bool {
        self.cost_usd.is_zero() && self.effective_usd.is_none_or(|e| e.is_zero())
    }
}
