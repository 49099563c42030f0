//! The example training algorithm (examples/train_linear.py) run through the engine: trained
//! weights and metrics come back; the training rows do not.

use crate::common::*;
use kelp_c2d::{AlgorithmSpec, DatasetInput, JobSpec, Resources, Status};

/// y = 3 x1 - 2 x2 + 1 + small deterministic noise, on a grid.
fn dataset() -> String {
    let mut s = String::from("x1,x2,y\n");
    for i in 0..40 {
        let x1 = (i % 8) as f64 * 0.25;
        let x2 = (i / 8) as f64 * 0.3 + 0.013 * i as f64;
        let noise = ((i * 7919) % 13) as f64 / 1000.0 - 0.006;
        s.push_str(&format!("{x1},{x2:.4},{:.6}\n", 3.0 * x1 - 2.0 * x2 + 1.0 + noise));
    }
    s
}

fn train(method: &str) -> (serde_json::Value, serde_json::Value, String, Vec<(String, Vec<u8>)>) {
    let lab = Lab::new();
    let data = lab.file("train.csv", &dataset());
    let algo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/train_linear.py");
    let mut spec = JobSpec::new(vec![DatasetInput::path(&data)], AlgorithmSpec::path(algo));
    spec.params.insert("target".into(), "y".into());
    spec.params.insert("method".into(), method.into());
    spec.params.insert("epochs".into(), 3000.into());
    spec.params.insert("lr".into(), 0.1.into());
    spec.resources = Resources { cpu: 1, ram: 1 << 30, disk: 16 << 20 };
    let rec = lab.run(spec);
    let log = lab.log(&rec);
    assert_eq!(rec.status, Status::JobFinished, "{log}");
    let files = lab.outputs(&rec);
    let get =
        |n: &str| serde_json::from_slice::<serde_json::Value>(&files.iter().find(|f| f.0 == n).unwrap().1).unwrap();
    (get("model.json"), get("metrics.json"), log, files)
}

fn check(model: &serde_json::Value, metrics: &serde_json::Value, tol: f64) {
    assert_eq!(model["features"], serde_json::json!(["x1", "x2"]));
    let w: Vec<f64> = model["weights"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let b = model["bias"].as_f64().unwrap();
    assert!((w[0] - 3.0).abs() < tol && (w[1] + 2.0).abs() < tol && (b - 1.0).abs() < tol, "{model}");
    assert!(metrics["r2"].as_f64().unwrap() > 0.999, "{metrics}");
    assert_eq!(metrics["rows"], 40);
}

#[test]
fn numpy_training_returns_weights_and_metrics_only() {
    let (model, metrics, log, files) = train("lstsq");
    assert_eq!(metrics["method"], "lstsq");
    check(&model, &metrics, 0.02);
    assert!(log.contains("trained on 40 rows with lstsq"), "{log}");
    // Only the two aggregate files came back, none holds a training row.
    assert_eq!(files.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(), ["metrics.json", "model.json"]);
    let row = dataset().lines().nth(5).unwrap().to_string();
    assert!(files.iter().all(|(_, b)| !String::from_utf8_lossy(b).contains(&row)));
}

#[test]
fn pure_python_gradient_descent_converges() {
    let (model, metrics, log, _) = train("gd");
    assert_eq!(metrics["method"], "gd");
    check(&model, &metrics, 0.05);
    assert!(log.contains("epoch 0"), "{log}");
}
