"""trainer subchart: the suspended CronJob template, its config, the bootstrap Job."""

import yaml

from tests.chart.conftest import container, env, pod_spec, render

CRON = "mlstack-trainer"


def test_cronjob_is_a_suspended_template_by_default():
    cron = render().get("CronJob", CRON)
    assert cron["spec"]["suspend"] is True
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    trainer = container(cron, "trainer")
    assert trainer["command"] == ["python", "-m", "training"]
    assert env(trainer)["MLSTACK_CONFIG"] == "/etc/mlstack/trainer/config.yaml"
    assert env(trainer)["MLFLOW_TRACKING_URI"] == "http://mlstack-mlflow:5000"
    assert pod_spec(cron)["restartPolicy"] == "Never"


def test_a_schedule_unsuspends_it():
    cron = render({"trainer": {"schedule": "0 3 * * *"}}).get("CronJob", CRON)
    assert cron["spec"]["schedule"] == "0 3 * * *" and cron["spec"]["suspend"] is False


def test_config_map_is_the_trainer_config_file_with_global_model_name():
    values = {
        "global": {"modelName": "wine", "modelAlias": "champion"},
        "trainer": {
            "config": {"data": "sklearn:wine", "model": "random_forest", "params": {"n_estimators": 50}}
        },
    }
    config = yaml.safe_load(render(values).get("ConfigMap", CRON)["data"]["config.yaml"])
    assert config["model_name"] == "wine" and config["alias"] == "champion"
    assert config["data"] == "sklearn:wine" and config["model"] == "random_forest"
    assert config["params"] == {"n_estimators": 50}
    assert "target" not in config  # null target: the bundled dataset knows its own
    assert set(config) <= {
        "data", "target", "task", "model", "params", "grid", "model_name", "alias",
        "seed", "test_size", "experiment", "min_improvement",
    }  # fmt: skip


def test_config_file_is_accepted_by_the_trainer(tmp_path):
    from training.settings import load_settings

    path = tmp_path / "config.yaml"
    path.write_text(render().get("ConfigMap", CRON)["data"]["config.yaml"])
    settings = load_settings({}, path)
    assert settings.model_name == "iris" and settings.model_alias == "production"


def test_bootstrap_job_shares_the_pod_template_and_renames_on_change():
    out = render()
    boots = [j for j in out.all("Job") if j["metadata"]["name"].startswith(f"{CRON}-bootstrap-")]
    assert len(boots) == 1
    boot = boots[0]
    assert "helm.sh/hook" not in (boot["metadata"].get("annotations") or {})
    assert pod_spec(boot) == pod_spec(out.get("CronJob", CRON))
    changed = render({"trainer": {"config": {"model": "random_forest"}}})
    assert not changed.find("Job", boot["metadata"]["name"])
    off = render({"trainer": {"bootstrap": {"enabled": False}}})
    assert not [j for j in off.all("Job") if "bootstrap" in j["metadata"]["name"]]


def test_data_volume_is_mounted_read_only_and_confines_paths():
    cron = render({"trainer": {"dataVolume": {"existingClaim": "datasets"}}}).get("CronJob", CRON)
    trainer = container(cron, "trainer")
    assert env(trainer)["MLSTACK_DATA_DIR"] == "/data"
    mount = next(m for m in trainer["volumeMounts"] if m["name"] == "data")
    assert mount["readOnly"] is True and mount["mountPath"] == "/data"
    volume = next(v for v in pod_spec(cron)["volumes"] if v["name"] == "data")
    assert volume["persistentVolumeClaim"]["claimName"] == "datasets"
