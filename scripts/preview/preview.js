"use strict";
// Checks the form as generator.validation does, with the rules the page carries as data, and shows the
// command and the CreateProject request that `sm-mlops project create --dry-run` prints for the same values.
(function () {
  const data = JSON.parse(document.getElementById("preview-data").textContent);
  const inputs = Array.from(document.querySelectorAll("[data-input]"));
  const button = document.getElementById("create");

  function valueOf(input) {
    return input.type === "checkbox" ? (input.checked ? "true" : "false") : input.value;
  }

  // The checks of generator.validation._check_one: allowed values, lengths, whole-value pattern.
  function holds(name, value) {
    const rule = data.rules[name] || {};
    const length = Array.from(value).length;
    if (rule.AllowedValues && !rule.AllowedValues.includes(value)) return false;
    if (rule.MinLength !== undefined && length < rule.MinLength) return false;
    if (rule.MaxLength !== undefined && length > rule.MaxLength) return false;
    if (rule.AllowedPattern !== undefined && !new RegExp("^(?:" + rule.AllowedPattern + ")$").test(value)) {
      return false;
    }
    return true;
  }

  // Python's shlex.quote.
  function quote(word) {
    if (word === "") return "''";
    if (/^[A-Za-z0-9_@%+=:,.\/-]+$/.test(word)) return word;
    return "'" + word.replace(/'/g, "'\"'\"'") + "'";
  }

  function show(values) {
    const name = values.ProjectName;
    const description = values.ProjectDescription;
    const params = Object.keys(values).filter((k) => k !== "ProjectName" && k !== "ProjectDescription").sort();
    const words = ["sm-mlops", "project", "create", name, "--template-variant", data.variant];
    if (data.productId) words.push("--product-id", data.productId);
    if (data.artifactId) words.push("--provisioning-artifact-id", data.artifactId);
    if (description !== data.defaultDescription) words.push("--description", description);
    params.forEach((k) => words.push("--param", k + "=" + values[k]));
    document.getElementById("command").textContent = words.map(quote).join(" ");
    const request = {
      ProjectDescription: description,
      ProjectName: name,
      ServiceCatalogProvisioningDetails: {
        ProductId: data.productId || data.productPlaceholder,
        ProvisioningArtifactId: data.artifactId || data.artifactPlaceholder,
        ProvisioningParameters: params.map((k) => ({ Key: k, Value: values[k] })),
      },
    };
    document.getElementById("request").textContent = JSON.stringify(request, null, 2);
  }

  function update() {
    const values = {};
    let all = true;
    inputs.forEach((input) => {
      const name = input.dataset.input;
      const value = valueOf(input);
      const ok = holds(name, value);
      values[name] = value;
      all = all && ok;
      const shown = !ok && (input.dataset.touched === "yes" || value !== "");
      document.getElementById("error-" + name).hidden = !shown;
      input.setAttribute("aria-invalid", shown ? "true" : "false");
    });
    button.disabled = !all;
    show(values);
  }

  inputs.forEach((input) => {
    ["input", "change", "blur"].forEach((event) =>
      input.addEventListener(event, () => {
        input.dataset.touched = "yes";
        update();
      })
    );
  });
  button.addEventListener("click", () => {
    document.getElementById("create-note").hidden = false;
  });
  update();
})();
