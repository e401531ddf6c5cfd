//! Flow-log fields of versions 2–11 and the record formats built from them: the default
//! format, a header line, or the `${field} …` string given to AWS.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Version,
    AccountId,
    InterfaceId,
    Srcaddr,
    Dstaddr,
    Srcport,
    Dstport,
    Protocol,
    Packets,
    Bytes,
    Start,
    End,
    Action,
    LogStatus,
    VpcId,
    SubnetId,
    InstanceId,
    TcpFlags,
    Type,
    PktSrcaddr,
    PktDstaddr,
    Region,
    AzId,
    SublocationType,
    SublocationId,
    PktSrcAwsService,
    PktDstAwsService,
    FlowDirection,
    TrafficPath,
    EcsClusterArn,
    EcsClusterName,
    EcsContainerInstanceArn,
    EcsContainerInstanceId,
    EcsContainerId,
    EcsSecondContainerId,
    EcsServiceName,
    EcsTaskDefinitionArn,
    EcsTaskArn,
    EcsTaskId,
    RejectReason,
    ResourceId,
    EncryptionStatus,
    InstanceTag,
    InstanceTag2,
    InterfaceTag,
    InterfaceTag2,
    AsgTag,
    AsgTag2,
    InterfaceType,
    NextHopInterfaceId,
    NextHopSubnetId,
    NextHopAzId,
    NextHopVpcId,
    NextHopInterfaceType,
}

/// Every field with its name in format strings and text headers, and the version that added it.
pub const FIELDS: &[(&str, Field, u8)] = &[
    ("version", Field::Version, 2),
    ("account-id", Field::AccountId, 2),
    ("interface-id", Field::InterfaceId, 2),
    ("srcaddr", Field::Srcaddr, 2),
    ("dstaddr", Field::Dstaddr, 2),
    ("srcport", Field::Srcport, 2),
    ("dstport", Field::Dstport, 2),
    ("protocol", Field::Protocol, 2),
    ("packets", Field::Packets, 2),
    ("bytes", Field::Bytes, 2),
    ("start", Field::Start, 2),
    ("end", Field::End, 2),
    ("action", Field::Action, 2),
    ("log-status", Field::LogStatus, 2),
    ("vpc-id", Field::VpcId, 3),
    ("subnet-id", Field::SubnetId, 3),
    ("instance-id", Field::InstanceId, 3),
    ("tcp-flags", Field::TcpFlags, 3),
    ("type", Field::Type, 3),
    ("pkt-srcaddr", Field::PktSrcaddr, 3),
    ("pkt-dstaddr", Field::PktDstaddr, 3),
    ("region", Field::Region, 4),
    ("az-id", Field::AzId, 4),
    ("sublocation-type", Field::SublocationType, 4),
    ("sublocation-id", Field::SublocationId, 4),
    ("pkt-src-aws-service", Field::PktSrcAwsService, 5),
    ("pkt-dst-aws-service", Field::PktDstAwsService, 5),
    ("flow-direction", Field::FlowDirection, 5),
    ("traffic-path", Field::TrafficPath, 5),
    ("ecs-cluster-arn", Field::EcsClusterArn, 7),
    ("ecs-cluster-name", Field::EcsClusterName, 7),
    ("ecs-container-instance-arn", Field::EcsContainerInstanceArn, 7),
    ("ecs-container-instance-id", Field::EcsContainerInstanceId, 7),
    ("ecs-container-id", Field::EcsContainerId, 7),
    ("ecs-second-container-id", Field::EcsSecondContainerId, 7),
    ("ecs-service-name", Field::EcsServiceName, 7),
    ("ecs-task-definition-arn", Field::EcsTaskDefinitionArn, 7),
    ("ecs-task-arn", Field::EcsTaskArn, 7),
    ("ecs-task-id", Field::EcsTaskId, 7),
    ("reject-reason", Field::RejectReason, 8),
    ("resource-id", Field::ResourceId, 9),
    ("encryption-status", Field::EncryptionStatus, 10),
    ("instance-tag", Field::InstanceTag, 11),
    ("instance-tag-2", Field::InstanceTag2, 11),
    ("interface-tag", Field::InterfaceTag, 11),
    ("interface-tag-2", Field::InterfaceTag2, 11),
    ("asg-tag", Field::AsgTag, 11),
    ("asg-tag-2", Field::AsgTag2, 11),
    ("interface-type", Field::InterfaceType, 11),
    ("next-hop-interface-id", Field::NextHopInterfaceId, 11),
    ("next-hop-subnet-id", Field::NextHopSubnetId, 11),
    ("next-hop-az-id", Field::NextHopAzId, 11),
    ("next-hop-vpc-id", Field::NextHopVpcId, 11),
    ("next-hop-interface-type", Field::NextHopInterfaceType, 11),
];

pub const FIELD_COUNT: usize = 54;

/// The fixed version-2 format AWS uses when no custom format is given.
pub const DEFAULT_FORMAT: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";

/// The format crossaz recommends (docs/flow-log-format.md).
pub const RECOMMENDED_FORMAT: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id flow-direction traffic-path";

impl Field {
    /// Looks up a name as written in headers (`pkt-srcaddr`), Parquet (`pkt_srcaddr`) or format strings (`${pkt-srcaddr}`).
    pub fn from_name(name: &str) -> Option<Field> {
        let name = name.trim();
        let name = name.strip_prefix("${").and_then(|n| n.strip_suffix('}')).unwrap_or(name);
        let normalized = name.to_ascii_lowercase().replace('_', "-");
        FIELDS.iter().find(|(n, _, _)| *n == normalized).map(|(_, f, _)| *f)
    }

    /// Like [`Field::from_name`] without allocating: `_` matches `-`, case is ignored.
    pub fn from_bytes(name: &[u8]) -> Option<Field> {
        FIELDS
            .iter()
            .find(|(n, _, _)| n.len() == name.len() && n.bytes().zip(name).all(|(a, b)| a == b.to_ascii_lowercase() || (a == b'-' && *b == b'_')))
            .map(|(_, f, _)| *f)
    }

    pub fn name(self) -> &'static str {
        FIELDS.iter().find(|(_, f, _)| *f == self).map(|(n, _, _)| *n).unwrap_or("?")
    }

    pub fn version(self) -> u8 {
        FIELDS.iter().find(|(_, f, _)| *f == self).map(|(_, _, v)| *v).unwrap_or(2)
    }

    /// The column name in Parquet files AWS delivers.
    pub fn parquet_name(self) -> String {
        self.name().replace('-', "_")
    }

    pub fn is_integer(self) -> bool {
        matches!(
            self,
            Field::Version
                | Field::Srcport
                | Field::Dstport
                | Field::Protocol
                | Field::Packets
                | Field::Bytes
                | Field::Start
                | Field::End
                | Field::TcpFlags
                | Field::TrafficPath
                | Field::EncryptionStatus
        )
    }
}

/// A record format: the fields in order, and where each one sits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Format {
    pub fields: Vec<Option<Field>>,
    /// Names that are not flow-log fields; their columns are ignored.
    pub unknown: Vec<String>,
    positions: [Option<u8>; FIELD_COUNT],
}

impl Format {
    pub fn default_v2() -> Format {
        Format::from_names(DEFAULT_FORMAT.split(' ')).expect("the default format is valid")
    }

    /// Builds a format from field names; errors on a repeated field or too many fields.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Format, String> {
        let mut fields = Vec::new();
        let mut unknown = Vec::new();
        let mut positions = [None; FIELD_COUNT];
        for (i, name) in names.into_iter().enumerate() {
            if i >= usize::from(u8::MAX) {
                return Err("more than 254 fields".into());
            }
            match Field::from_name(name) {
                Some(f) => {
                    if positions[f as usize].is_some() {
                        return Err(format!("field `{}` appears twice", f.name()));
                    }
                    positions[f as usize] = Some(i as u8);
                    fields.push(Some(f));
                }
                None => {
                    unknown.push(name.to_string());
                    fields.push(None);
                }
            }
        }
        if fields.is_empty() {
            return Err("no fields".into());
        }
        Ok(Format { fields, unknown, positions })
    }

    /// Parses the `LogFormat` string given to AWS: `${version} ${account-id} …`.
    pub fn from_aws_string(s: &str) -> Result<Format, String> {
        let f = Format::from_names(s.split_ascii_whitespace())?;
        if let Some(u) = f.unknown.first() {
            return Err(format!("unknown field `{u}`{}", suggestion(u)));
        }
        Ok(f)
    }

    pub fn position(&self, f: Field) -> Option<usize> {
        self.positions[f as usize].map(usize::from)
    }

    pub fn has(&self, f: Field) -> bool {
        self.positions[f as usize].is_some()
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields crossaz cannot do without, or `None` when all are there. (Each flow is recorded
    /// by both interfaces: without `flow-direction`, the direction comes from the interface's or
    /// the instance's addresses in the inventory; records without either are tallied as
    /// direction unknown, and the summary names the fields to add.)
    pub fn missing_required(&self) -> Option<String> {
        let mut missing = Vec::new();
        for f in [Field::Srcaddr, Field::Dstaddr, Field::Bytes, Field::Start] {
            if !self.has(f) {
                missing.push(f.name());
            }
        }
        (!missing.is_empty()).then(|| missing.join("`, `"))
    }

    /// How much the format tells crossaz: the richer of two flow logs over one interface wins.
    pub fn richness(&self) -> u32 {
        let weights = [
            (Field::PktSrcaddr, 64),
            (Field::PktDstaddr, 64),
            (Field::FlowDirection, 32),
            (Field::AzId, 16),
            (Field::InterfaceId, 8),
            (Field::VpcId, 4),
            (Field::SubnetId, 4),
            (Field::InstanceId, 2),
            (Field::TrafficPath, 1),
        ];
        weights.iter().filter(|(f, _)| self.has(*f)).map(|(_, w)| w).sum::<u32>() + self.fields.iter().flatten().count() as u32 / 8
    }

    pub fn describe(&self) -> String {
        self.fields.iter().map(|f| f.map(Field::name).unwrap_or("?")).collect::<Vec<_>>().join(" ")
    }
}

/// The `LogFormat` string given to AWS for space-separated field names: `${version} ${account-id} …`.
pub fn aws_string(names: &str) -> String {
    names.split_whitespace().map(|f| format!("${{{f}}}")).collect::<Vec<_>>().join(" ")
}

/// ", did you mean `x`?" for a misspelt field name.
pub fn suggestion(name: &str) -> String {
    let bare = name.strip_prefix("${").and_then(|n| n.strip_suffix('}')).unwrap_or(name);
    let normalized = bare.to_ascii_lowercase().replace('_', "-");
    let best = FIELDS.iter().map(|(n, _, _)| (*n, edit_distance(n, &normalized))).min_by_key(|(_, d)| *d);
    match best {
        Some((n, d)) if d <= 3 => format!(", did you mean `{n}`?"),
        _ => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Transit Gateway flow logs share the layout but not the meaning; recognise them to say so.
pub fn is_transit_gateway_field(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('_', "-");
    n.starts_with("tgw-") || n.starts_with("packets-lost-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_every_spelling() {
        assert_eq!(Field::from_name("pkt-srcaddr"), Some(Field::PktSrcaddr));
        assert_eq!(Field::from_name("pkt_srcaddr"), Some(Field::PktSrcaddr));
        assert_eq!(Field::from_name("${pkt-srcaddr}"), Some(Field::PktSrcaddr));
        assert_eq!(Field::from_name("next_hop_az_id"), Some(Field::NextHopAzId));
        assert_eq!(Field::from_name("nope"), None);
        assert_eq!(FIELDS.len(), FIELD_COUNT);
    }

    #[test]
    fn default_format() {
        let f = Format::default_v2();
        assert_eq!(f.len(), 14);
        assert_eq!(f.position(Field::Bytes), Some(9));
        assert!(f.missing_required().is_none());
    }

    #[test]
    fn aws_format_string() {
        let f = Format::from_aws_string("${version} ${interface-id} ${srcaddr} ${dstaddr} ${bytes} ${start} ${pkt-srcaddr}").unwrap();
        assert_eq!(f.position(Field::PktSrcaddr), Some(6));
        let err = Format::from_aws_string("${version} ${pkt-srcadr}").unwrap_err();
        assert_eq!(err, "unknown field `${pkt-srcadr}`, did you mean `pkt-srcaddr`?");
        assert!(Format::from_aws_string("${bytes} ${bytes}").is_err());
    }

    #[test]
    fn nat_example_lacks_bytes() {
        let f = Format::from_names("instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr".split(' ')).unwrap();
        assert_eq!(f.missing_required().as_deref(), Some("bytes`, `start"));
    }
}

/// How to read files without a header line.
#[derive(Clone, Debug)]
pub struct TextFormat {
    pub format: Format,
    pub is_default: bool,
}
