# Packer: bake netagent's tuning into an AMI. Add these provisioners to your own build block
# (the source is yours; amazon-ebs shown). Build: install, apply, persist. Test: audit as JUnit,
# downloaded next to the build so CI can publish it; a drifted image fails the build (exit 1).
# Checked by tests/unit/test_pipeline_docs.py: every `netagent` command here must parse.

variable "netagent_wheel" {
  type        = string
  description = "Path of the netagent wheel on the build machine (python3 -m pip wheel . -w dist/)"
  default     = "dist/netagent-0.1.0-py3-none-any.whl"
}

variable "netagent_profile" {
  type        = string
  description = "Profile baked into the image as /etc/netagent/profile.yaml"
  default     = "profiles/ec2-default.yaml"
}

build {
  sources = ["source.amazon-ebs.base"]

  provisioner "file" {
    sources     = [var.netagent_wheel, var.netagent_profile]
    destination = "/tmp/"
  }

  # Build phase: install, apply now, persist for every later boot.
  provisioner "shell" {
    inline = [
      "sudo python3 -m pip install /tmp/netagent-*.whl",
      "sudo install -D -m 0644 /tmp/$(basename ${var.netagent_profile}) /etc/netagent/profile.yaml",
      "sudo netagent apply --profile /etc/netagent/profile.yaml --log-format json",
      "sudo netagent persist --profile /etc/netagent/profile.yaml --root /",
    ]
  }

  # Test phase: gate the image on the audit; the JUnit report goes to the build's CI.
  provisioner "shell" {
    inline = [
      "sudo netagent audit --profile /etc/netagent/profile.yaml --format junit --output /tmp/netagent-junit.xml",
    ]
  }

  provisioner "file" {
    direction   = "download"
    source      = "/tmp/netagent-junit.xml"
    destination = "reports/netagent-junit.xml"
  }
}
