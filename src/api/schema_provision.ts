/**
 * Field table rows of Domain.spec.provision: every provisioner type's fields in one object (which belong to
 * which type is checked by validate_provision.ts). `schema.ts` puts them into the Domain's table.
 *
 * @module
 */

import {
  DEFAULT_ANSIBLE_LOCAL_PATH,
  DEFAULT_CONTAINER_RESTART,
  DEFAULT_PRIVILEGED,
  DEFAULT_PROVISION_RUN,
  DEFAULT_PROVISIONER,
  DEFAULT_PUPPET_MANIFEST,
  DEFAULT_SALT_LOG_LEVEL,
} from "./defaults.ts";
import { bool, type Field, list, obj, oneOf, str } from "./field_types.ts";
import type {
  AnsibleLocalProvisioner,
  AnsibleProvisioner,
  ContainerRun,
  DockerProvisioner,
  FileProvisioner,
  Provisioner,
  PuppetProvisioner,
  SaltProvisioner,
  ShellProvisioner,
} from "./types.ts";

/** The fields of every provisioner type (validation checks which belong to which type). */
type ProvisionerFields =
  & Omit<ShellProvisioner, "type">
  & Omit<FileProvisioner, "type">
  & Omit<AnsibleProvisioner, "type">
  & Omit<AnsibleLocalProvisioner, "type">
  & Omit<PuppetProvisioner, "type">
  & Omit<SaltProvisioner, "type">
  & Omit<DockerProvisioner, "type">
  & { type: Provisioner["type"] };

const STRING_MAP = (description: string, vagrant: string): Field => ({
  type: "map",
  description,
  keys: "env-name",
  values: str("Value.", { allowEmpty: true, multiline: true }),
  default: {},
  vagrant,
});

const ARGS = (description: string, vagrant: string) =>
  list(description, str("An argument.", { allowEmpty: true, multiline: true }), { vagrant });

const CONTAINER = obj<ContainerRun>("A container the docker or podman provisioner runs (Vagrant's `run`).", {
  name: str("The container's name; a container of that name is replaced.", {
    required: true,
    format: "name",
  }),
  image: str("The image to run; default the name.", { vagrant: "image" }),
  cmd: ARGS("The command (and its arguments) given to the image.", "cmd"),
  args: ARGS('Extra `docker run` arguments, one a list item ("-p", "8080:80").', "args"),
  daemonize: bool("Run detached (-d).", { default: true, vagrant: "daemonize" }),
  restart: oneOf("The restart policy.", ["no", "on-failure", "always", "unless-stopped"], {
    default: DEFAULT_CONTAINER_RESTART,
    vagrant: "restart",
  }),
});

/** The types a provisioner may have, as `lv explain` says them. */
const TYPES =
  "Provisioner type: shell (a script run in the guest), file (a host file or directory copied into the guest as the SSH user), ansible (ansible-playbook run on this host against the guest, with an inventory lv writes under $LV_HOME/ansible, holding every Domain of the namespace that runs the same playbook), ansible_local (ansible-playbook run inside the guest), puppet (puppet apply in the guest), salt (masterless salt-call --local in the guest), docker or podman (images pulled and containers run in the guest). A guest without the tool gets Ready=False ProvisionerToolMissing.";

export const PROVISIONER = obj<ProvisionerFields>(
  "A provisioner run in the guest over SSH. shell: give exactly one of inline and path; file: give source and destination.",
  {
    type: oneOf(
      TYPES,
      [
        "shell",
        "file",
        "ansible",
        "ansible_local",
        "puppet",
        "salt",
        "docker",
        "podman",
      ] as const satisfies readonly Provisioner["type"][],
      { default: DEFAULT_PROVISIONER, vagrant: "type" },
    ),
    inline: str("shell: script text to run.", { multiline: true, vagrant: "inline" }),
    path: str("shell: path of a script on the host, uploaded and run.", {
      format: "host-path",
      vagrant: "path",
    }),
    source: str(
      "file: a file or directory on the host, relative to the manifest; it must exist when applied. A directory's contents are copied into destination.",
      { format: "host-path", vagrant: "source" },
    ),
    destination: str(
      "file: absolute path in the guest (the file, or the directory a source directory's contents go into; made if missing). The SSH user must be able to write it.",
      { format: "guest-path", vagrant: "destination" },
    ),
    playbook: str(
      "ansible: a playbook on the host, relative to the manifest; it must exist when applied. ansible_local: the playbook in the guest, relative to provisioningPath.",
      { vagrant: "playbook" },
    ),
    provisioningPath: str(
      "ansible_local: the guest directory ansible-playbook runs in: a synced folder's target, or where a file provisioner copied the playbook.",
      { format: "guest-path", default: DEFAULT_ANSIBLE_LOCAL_PATH, vagrant: "provisioning_path" },
    ),
    extraVars: STRING_MAP("ansible, ansible_local: variables passed with --extra-vars.", "extra_vars"),
    limit: str(
      "ansible, ansible_local: --limit pattern; default this Domain's name (as Vagrant), `all` for every host of the inventory (lv waits until each answers on SSH: Ready=False ProvisionWaiting names those it waits for).",
      { vagrant: "limit" },
    ),
    tags: list("ansible, ansible_local: only the tasks with these tags (--tags).", str("A tag."), {
      vagrant: "tags",
    }),
    verbose: bool("ansible, ansible_local: run ansible-playbook with -v.", {
      default: false,
      vagrant: "verbose",
    }),
    groups: list(
      "ansible, ansible_local: inventory groups the guest is in.",
      str("A group name.", { format: "env-name" }),
      { vagrant: "groups" },
    ),
    hostVars: STRING_MAP("ansible, ansible_local: inventory variables of the guest.", "host_vars"),
    install: bool(
      "ansible_local: install ansible with the guest's package manager (apt-get, dnf, yum, zypper or apk) when ansible-playbook is missing; false: a guest without it gets Ready=False ProvisionerToolMissing.",
      { default: false, vagrant: "install" },
    ),
    manifestsPath: str(
      "puppet: a host directory of manifests, relative to the manifest; copied into the guest.",
      { format: "host-path", vagrant: "manifests_path" },
    ),
    manifestFile: str("puppet: the manifest in manifestsPath that is applied.", {
      default: DEFAULT_PUPPET_MANIFEST,
      vagrant: "manifest_file",
    }),
    modulePath: str("puppet: a host directory of modules, relative to the manifest; copied into the guest.", {
      format: "host-path",
      vagrant: "module_path",
    }),
    facter: STRING_MAP("puppet: facts, given as FACTER_name=value.", "facter"),
    options: ARGS("puppet: extra `puppet apply` arguments.", "options"),
    statesPath: str(
      "salt: a host directory of states (top.sls and the .sls files), relative to the manifest; copied into the guest and used as the file root.",
      { format: "host-path" },
    ),
    minionConfig: str(
      "salt: a host minion configuration file, copied into the guest and used (--config-dir).",
      {
        format: "host-path",
        vagrant: "minion_config",
      },
    ),
    states: list("salt: state.apply these states; none: state.highstate.", str("A state name.")),
    pillar: STRING_MAP("salt: pillar data given to the state run.", "pillar"),
    logLevel: oneOf("salt: salt-call --log-level.", ["quiet", "error", "warning", "info", "debug"], {
      default: DEFAULT_SALT_LOG_LEVEL,
      vagrant: "log_level",
    }),
    saltCallArgs: ARGS("salt: extra salt-call arguments.", "salt_call_args"),
    images: list("docker, podman: images pulled.", str("An image reference."), { vagrant: "images" }),
    containers: list("docker, podman: containers run (Vagrant's `run` entries).", CONTAINER, {
      vagrant: "run",
    }),
    args: ARGS("shell: arguments passed to the script.", "args"),
    env: {
      type: "map",
      description: "shell: environment variables for the script.",
      keys: "env-name",
      values: str("Value.", { allowEmpty: true, multiline: true }),
      default: {},
      vagrant: "env",
    },
    privileged: bool("shell: run as root (with sudo).", {
      default: DEFAULT_PRIVILEGED,
      vagrant: "privileged",
    }),
    run: oneOf(
      "once: on the first boot, and again on `lv provision`; always: on every boot.",
      ["once", "always"] as const satisfies readonly ShellProvisioner["run"][],
      {
        default: DEFAULT_PROVISION_RUN,
        vagrant: "run",
      },
    ),
    name: str("Name shown in progress output.", { maxLength: 253, vagrant: "name" }),
  },
  // shell's "at least one of inline and path", and which fields go with which type: validate_provision.ts
  { atMostOne: [["inline", "path"]] },
);
