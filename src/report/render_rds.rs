//! Renders the RDS what-if of a Report (`crossaz whatif rds`) as a table, CSV or JSON.

use super::Report;
use super::render::{Format, human_bytes, human_usd};
use super::render_routing::{align_right, assumptions_and_notes, new_table, short_zone, whatif_json};
use crate::error::Error;
use crate::pricing::rds::Deployment;
use crate::whatif::rds::{DbOption, DbWhatIf, RdsWhatIf};

pub fn render(report: &Report, format: Format) -> Result<Vec<u8>, Error> {
    let Some(r) = &report.rds else {
        return Err(Error::failure("the report has no RDS what-if"));
    };
    match format {
        Format::Json => whatif_json(report, r),
        Format::Csv => csv(r),
        Format::Parquet | Format::Focus => Err(Error::usage("`crossaz whatif rds` writes table, CSV or JSON")),
        Format::Table => Ok(table(report, r, None).into_bytes()),
    }
}

fn option_name(o: &DbOption) -> String {
    match (&o.option, o.reads.as_deref()) {
        (Deployment::MultiAzCluster, Some("zone-local")) => "multi-az-cluster, zone-local reads".into(),
        (Deployment::MultiAzCluster, _) => "multi-az-cluster, reader endpoint".into(),
        (d, _) => d.as_str().into(),
    }
}

fn failover(o: &DbOption) -> String {
    match o.failover_seconds {
        Some([0, hi]) => format!("< {hi} s"),
        Some([lo, hi]) => format!("{lo}-{hi} s"),
        None => "none".into(),
    }
}

/// The cheapest placement of each kind of option, plus today's and the recommended one.
fn shown_options(d: &DbWhatIf) -> Vec<&DbOption> {
    let mut shown: Vec<&DbOption> = Vec::new();
    for o in &d.options {
        match shown.iter().position(|s| s.option == o.option && s.reads == o.reads) {
            Some(i) if o.monthly_total_usd < shown[i].monthly_total_usd => shown[i] = o,
            Some(_) => {}
            None => shown.push(o),
        }
    }
    for o in d.options.iter().filter(|o| o.current || is_recommended(d, o)) {
        if !shown.iter().any(|s| std::ptr::eq(*s, o)) {
            shown.push(o);
        }
    }
    shown.sort_by(|a, b| (a.option, &a.reads, &a.writer_az).cmp(&(b.option, &b.reads, &b.writer_az)));
    shown
}

fn is_recommended(d: &DbWhatIf, o: &DbOption) -> bool {
    d.recommendation.as_ref().is_some_and(|r| r.option == o.option && r.writer_az == o.writer_az && r.reads == o.reads)
}

/// The table; `top` limits the databases shown (the demo).
pub fn table(report: &Report, r: &RdsWhatIf, top: Option<usize>) -> String {
    let mut out = String::from("RDS deployment options: instance hours, storage and the cross-AZ bytes each placement causes\n");
    out.push_str(&format!(
        "Traffic: {} h of flow logs ({} – {}), scaled to a 730-hour month at ${}/GB (out + in), region {}\n",
        r.window_hours,
        report.measurement.window.first_record.as_deref().unwrap_or("?"),
        report.measurement.window.last_record.as_deref().unwrap_or("?"),
        r.price_per_gb_usd,
        r.region
    ));
    out.push_str(&format!("Prices: {}\n", r.prices_source));
    for d in r.databases.iter().take(top.unwrap_or(usize::MAX)) {
        out.push('\n');
        out.push_str(&format!(
            "{} — {} {}, {} GB {}; today {}{}\n",
            d.id,
            d.engine,
            d.class,
            d.storage_gb,
            d.storage_type,
            d.current_option.as_str(),
            d.current_writer_az.as_ref().map(|z| format!(", writer in {z}")).unwrap_or_default()
        ));
        let by_az: Vec<String> = d
            .client_bytes_by_az
            .iter()
            .map(|(z, b)| {
                let reads = d.reader_bytes_by_az.get(z).copied().unwrap_or(0);
                if reads > 0 {
                    format!("{} {} ({} to readers)", short_zone(z), human_bytes(*b), human_bytes(reads))
                } else {
                    format!("{} {}", short_zone(z), human_bytes(*b))
                }
            })
            .collect();
        out.push_str(&format!(
            "Clients' bytes by AZ: {}; reads taken as {}% ({})\n",
            if by_az.is_empty() { "none".into() } else { by_az.join(", ") },
            (d.read_fraction * rust_decimal::Decimal::from(100)).round_dp(1).normalize(),
            d.read_fraction_from
        ));
        out.push_str(&format!(
            "Today: {} cross-AZ, {}/month ({} instances + {} storage + {} transfer)\n",
            human_bytes(d.today.cross_az_bytes),
            human_usd(d.today.monthly_total_usd),
            human_usd(d.today.monthly_instance_usd),
            human_usd(d.today.monthly_storage_usd),
            human_usd(d.today.monthly_cross_az_usd)
        ));
        let top: Vec<String> = d
            .clients
            .iter()
            .filter(|c| c.cross_az_bytes > 0)
            .take(3)
            .map(|c| format!("{} in {} → {} ({})", c.client, short_zone(&c.client_az), c.endpoint_role, human_bytes(c.cross_az_bytes)))
            .collect();
        if !top.is_empty() {
            out.push_str(&format!("Top cross-AZ clients: {}\n", top.join(", ")));
        }
        for f in &d.failovers {
            out.push_str(&format!("Failover seen: {} the writer moved {} → {}\n", f.date, f.from_az, f.to_az));
        }
        let mut t = new_table();
        t.set_header(["Option", "Writer AZ", "Instances $/mo", "Storage $/mo", "Cross-AZ $/mo", "Total $/mo", "Failover", "AZ loss", "After failover", ""]);
        let rec = d.recommendation.as_ref();
        for o in shown_options(d) {
            let mark = match (o.current, is_recommended(d, o)) {
                (true, true) => "today, recommended",
                (true, false) => "today",
                (false, true) => "recommended",
                _ => "",
            };
            t.add_row([
                option_name(o),
                short_zone(&o.writer_az).to_string(),
                human_usd(o.monthly_instance_usd),
                human_usd(o.monthly_storage_usd),
                human_usd(o.monthly_cross_az_usd),
                human_usd(o.monthly_total_usd),
                failover(o),
                if o.survives_az_loss { "survives".into() } else { "down".into() },
                o.after_failover.as_ref().map(|a| format!("{} {}", short_zone(&a.writer_az), human_usd(a.monthly_cross_az_usd))).unwrap_or_else(|| "-".into()),
                mark.to_string(),
            ]);
        }
        align_right(&mut t, &[2, 3, 4, 5]);
        out.push_str(&format!("{t}\n"));
        match rec {
            Some(r) if r.keep => out.push_str(&format!(
                "Recommendation: keep it ({} with the writer in {}, {}/month as projected): {}\n",
                r.option.as_str(),
                r.writer_az,
                human_usd(r.monthly_total_usd),
                r.why
            )),
            Some(r) => out.push_str(&format!(
                "Recommendation: {} with the writer in {}: {}/month, {} against today ({})\n",
                r.reads.as_ref().map(|x| format!("multi-az-cluster with {x} reads")).unwrap_or_else(|| r.option.as_str().to_string()),
                r.writer_az,
                human_usd(r.monthly_total_usd),
                if r.monthly_savings_usd.is_sign_negative() {
                    format!("{} more", human_usd(-r.monthly_savings_usd))
                } else {
                    format!("saves {}", human_usd(r.monthly_savings_usd))
                },
                r.why
            )),
            None => out.push_str(&format!(
                "Recommendation: none — no option survives the loss of an AZ{}\n",
                r.rto_seconds.map(|s| format!(" and fails over within {s} s")).unwrap_or_default()
            )),
        }
        for n in &d.notes {
            out.push_str(&format!("note: {n}\n"));
        }
    }
    if r.databases.len() > 1 {
        out.push_str(&format!(
            "\nTotal ({} databases): today {}/month, recommended {}/month, saving {}/month\n",
            r.databases.len(),
            human_usd(r.total.today_monthly_usd),
            human_usd(r.total.recommended_monthly_usd),
            human_usd(r.total.monthly_savings_usd)
        ));
    }
    assumptions_and_notes(&mut out, &r.assumptions, &r.notes);
    out
}

fn csv(r: &RdsWhatIf) -> Result<Vec<u8>, Error> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let fail = |e: ::csv::Error| Error::failure("failed to write CSV").caused_by(e);
    w.write_record([
        "id",
        "engine",
        "current_option",
        "current_writer_az",
        "option",
        "reads",
        "writer_az",
        "class",
        "current",
        "recommended",
        "cross_az_bytes",
        "monthly_instance_usd",
        "monthly_storage_usd",
        "monthly_cross_az_usd",
        "monthly_total_usd",
        "failover_seconds_low",
        "failover_seconds_high",
        "survives_az_loss",
        "meets_rto",
        "after_failover_writer_az",
        "after_failover_monthly_cross_az_usd",
    ])
    .map_err(fail)?;
    for d in &r.databases {
        for o in &d.options {
            let rec = is_recommended(d, o);
            w.write_record([
                d.id.clone(),
                d.engine.clone(),
                d.current_option.as_str().into(),
                d.current_writer_az.clone().unwrap_or_default(),
                o.option.as_str().into(),
                o.reads.clone().unwrap_or_default(),
                o.writer_az.clone(),
                o.class.clone(),
                o.current.to_string(),
                rec.to_string(),
                o.cross_az_bytes.to_string(),
                o.monthly_instance_usd.to_string(),
                o.monthly_storage_usd.to_string(),
                o.monthly_cross_az_usd.to_string(),
                o.monthly_total_usd.to_string(),
                o.failover_seconds.map(|f| f[0].to_string()).unwrap_or_default(),
                o.failover_seconds.map(|f| f[1].to_string()).unwrap_or_default(),
                o.survives_az_loss.to_string(),
                o.meets_rto.map(|b| b.to_string()).unwrap_or_default(),
                o.after_failover.as_ref().map(|a| a.writer_az.clone()).unwrap_or_default(),
                o.after_failover.as_ref().map(|a| a.monthly_cross_az_usd.to_string()).unwrap_or_default(),
            ])
            .map_err(fail)?;
        }
    }
    w.into_inner().map_err(|e| Error::failure("failed to write CSV").caused_by(e.error()))
}
