//! `ternctl get KIND`, `apply -f`, `delete -f` over the `Resources` service.

use std::io::Read;

use serde_yaml::Value;
use tern_proto::pb;
use tern_proto::pb::resources_client::ResourcesClient;
use tonic::transport::Channel;

use crate::client::Target;
use crate::kinds::Kind;
use crate::output::{Format, plain_table, render};

pub async fn get(
    channel: Channel,
    target: &Target,
    kind: Kind,
    name: Option<String>,
    namespace: Option<String>,
    format: Format,
) -> anyhow::Result<()> {
    let request = pb::GetResourcesRequest {
        kind: kind.kind().to_string(),
        name: name.clone().unwrap_or_default(),
        namespace: namespace.unwrap_or_default(),
    };
    let resources = ResourcesClient::new(channel)
        .get(request)
        .await
        .map_err(|status| target.call_error(&format!("get {}", kind.aliases()[0]), status))?
        .into_inner()
        .resources;
    if let Some(name) = name
        && resources.is_empty()
    {
        anyhow::bail!("{} {name:?} not found", kind.kind());
    }
    print_resources(kind, &resources, format)
}

fn print_resources(kind: Kind, resources: &[pb::Resource], format: Format) -> anyhow::Result<()> {
    let values: Vec<Value> = resources
        .iter()
        .map(|r| serde_yaml::from_str(&r.yaml))
        .collect::<Result<_, _>>()?;
    match format {
        Format::Yaml => {
            let documents: Vec<String> = values
                .iter()
                .map(serde_yaml::to_string)
                .collect::<Result<_, _>>()?;
            print!("{}", documents.join("---\n"));
        }
        Format::Json => {
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": values});
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
        Format::Table | Format::Wide => print!(
            "{}",
            render_resources(kind, resources, &values, format == Format::Wide)
        ),
    }
    Ok(())
}

fn render_resources(
    kind: Kind,
    resources: &[pb::Resource],
    values: &[Value],
    wide: bool,
) -> String {
    if resources.is_empty() {
        return format!("No {} found.\n", kind.aliases()[0]);
    }
    let mut headers = Vec::new();
    if kind.namespaced() {
        headers.push("NAMESPACE");
    }
    headers.push("NAME");
    let columns = if wide {
        kind.wide_columns()
    } else {
        &kind.wide_columns()[..kind.wide_columns().len().min(2)]
    };
    headers.extend(columns.iter().map(|(header, _)| *header));
    let mut table = plain_table(&headers);
    for (resource, value) in resources.iter().zip(values) {
        let mut row = Vec::new();
        if kind.namespaced() {
            row.push(resource.namespace.clone());
        }
        row.push(resource.name.clone());
        for (_, path) in columns {
            row.push(field_text(value, path));
        }
        table.add_row(row);
    }
    render(&table)
}

/// A field as short text: scalars as they are, lists joined with commas, maps as flow YAML.
fn field_text(value: &Value, path: &[&str]) -> String {
    let Some(field) = path.iter().try_fold(value, |v, key| v.get(*key)) else {
        return String::new();
    };
    match field {
        Value::String(text) => text.clone(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::Sequence(items) => items
            .iter()
            .map(|item| field_text(item, &[]))
            .collect::<Vec<_>>()
            .join(","),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// Read `-f FILE` or `-f -` (stdin): (source name, text).
pub fn read_manifest(file: &str) -> anyhow::Result<(String, String)> {
    if file == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        return Ok(("<stdin>".to_string(), text));
    }
    let text = std::fs::read_to_string(file)
        .map_err(|error| anyhow::anyhow!("cannot read {file}: {error}"))?;
    Ok((file.to_string(), text))
}

/// `apply -f` (`delete == false`) or `delete -f`.
pub async fn apply_or_delete(
    channel: Channel,
    target: &Target,
    source: &str,
    yaml: &str,
    delete: bool,
) -> anyhow::Result<()> {
    let (source, yaml) = (source.to_string(), yaml.to_string());
    let mut client = ResourcesClient::new(channel);
    let what = if delete { "delete" } else { "apply" };
    let results = if delete {
        client
            .delete(pb::DeleteRequest { yaml, source })
            .await
            .map(|r| r.into_inner().resources)
    } else {
        client
            .apply(pb::ApplyRequest { yaml, source })
            .await
            .map(|r| r.into_inner().resources)
    }
    .map_err(|status| target.call_error(what, status))?;
    for result in results {
        let kind = result.kind.to_ascii_lowercase();
        println!("{kind}/{} {}", result.name, result.result);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_table_shows_name_and_cidr() {
        let yaml = "apiVersion: tern.dev/v1alpha1\nkind: IPPool\nmetadata:\n  name: default-ipv4\nspec:\n  cidr: 198.19.0.0/16\n  ipipMode: Always\n  natOutgoing: true\n";
        let resource = pb::Resource {
            kind: "IPPool".into(),
            name: "default-ipv4".into(),
            yaml: yaml.into(),
            ..Default::default()
        };
        let value: Value = serde_yaml::from_str(yaml).unwrap();
        let text = render_resources(
            Kind::IpPool,
            std::slice::from_ref(&resource),
            std::slice::from_ref(&value),
            false,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            ["NAME", "CIDR", "IPIPMODE"]
        );
        assert_eq!(
            lines[1].split_whitespace().collect::<Vec<_>>(),
            ["default-ipv4", "198.19.0.0/16", "Always"]
        );
        let wide = render_resources(Kind::IpPool, &[resource], &[value], true);
        assert!(wide.lines().nth(1).unwrap().contains("true"));
    }
}
