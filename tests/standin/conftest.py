from standin.pytest_plugin import standin, standin_env, standin_server  # noqa: F401 - fixtures
