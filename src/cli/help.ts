/** Help texts: `lv help`, `lv COMMAND --help`. */
import { UsageError } from "./errors.ts";

export const HELP = `lv runs virtual machines on libvirt the way Kubernetes runs workloads.

Usage: lv COMMAND [ARGS] [FLAGS]

Resources (apiVersion lv.dev/v1alpha1): Box, Volume, Network, Domain.

Commands:
  apply -f FILE        create or update resources, then converge until Ready
  get KIND [NAME]      list resources (-o table|wide|yaml|json|name, -l key=value)
  describe KIND NAME   show a resource with its conditions and events
  delete -f FILE       delete resources and what they own; waits until libvirt is clean
  delete KIND NAME
  wait KIND/NAME --for=condition=Ready
                       block until a condition holds (or --for=delete)
  up|halt|suspend|resume NAME
                       set a domain's state (Running, Stopped, Paused) and wait for it
  reload NAME          stop and start a domain (next-boot changes apply), sync and provision again
  provision NAME       run the domain's provisioners again
  rsync NAME           sync the domain's rsync folders again
  ssh NAME [-- CMD]    a shell on the guest, or one command (its exit code is lv's)
  ssh-config NAME      OpenSSH config for the guest: lv ssh-config web >> ~/.ssh/config
  snapshot save|list|revert|delete NAME [SNAPSHOT]
                       libvirt snapshots of a domain
  config SUBCOMMAND    contexts (libvirt hosts): set-context, use-context, get-contexts,
                       current-context, delete-context, view
  box SUBCOMMAND       list, prune: base volumes and what uses them; add, outdated, update: Vagrant
                       catalog boxes (USER/NAME) fetched ahead, checked for and moved to new versions
  controller           run the controllers until stopped (heals drift)
  doctor               check this host and print the fix for each problem
  explain KIND[.FIELD] document a kind or field
  schema [KIND]        print the JSON Schema of the resources
  version              print lv's and libvirt's versions
  help [COMMAND]       show help

Flags for every command:
  --context NAME       a context of the config file (default: $LV_CONTEXT, else its currentContext)
  --connect URI        a libvirt URI instead of a context (default: $LV_CONNECT, else qemu:///system)
  -n, --namespace NS   namespace (default "default")
  -h, --help           help for the command

Environment: LV_HOME (store and caches, default ~/.local/share/lv), LV_CONNECT, LV_CONTEXT, LV_CONFIG
(config file, default $LV_HOME/config.yaml when LV_HOME is set, else ~/.config/lv/config.yaml),
LV_VIRSH=process (a virsh process per command instead of long-lived virsh sessions).
Exit codes: 0 ok, 1 failure, 2 usage or validation error.
`;

const USAGE: Record<string, string> = {
  box: `Usage: lv box list [-o table|wide|json] [-A]
       lv box prune [--dry-run] [--timeout=10m] [-A]
       lv box add USER/NAME|URL [--version CONSTRAINT]
       lv box outdated
       lv box update NAME [--timeout=10m]

Boxes are uploaded once per pool as base volumes (box-NAME, box-NAME-2, ... for a box with several disks)
and shared by the copy-on-write Volumes made on them.

list    every Box's base volumes, per pool: size, format, and what uses them (USED-BY: lv's Volumes,
        Domains whose overlay is still to be made, and any other volume libvirt says is backed by it),
        then box-* volumes in those pools that no Box owns (BOX <none>: orphans)
prune   deletes the Boxes nothing uses (their volumes with them, waiting like lv delete) and the orphaned
        box volumes nothing uses; prints what it removed. --dry-run prints the same and removes nothing.
        A volume named like a Box's that lv did not make (NameConflict) is never removed.
add     resolves a Vagrant catalog box (USER/NAME at $LV_BOX_SERVER_URL, the config file's boxServerUrl or
        Vagrant's public catalog; or a metadata JSON URL) to the newest version matching --version
        (1.2.3, ">= 4.0, < 5.0", "~> 4.3") with a libvirt provider for this host, or takes a .box URL, and
        downloads it into lv's cache with a progress bar: a Box using it later needs no download.
outdated  the Boxes from a catalog whose spec.version now matches a newer version than the one they use.
update  moves a Box to that version: uploaded as box-NAME-vVERSION; Volumes made before keep the old base
        volume, which stays while they use it; lv box prune removes it after.

Pools looked at: "default" and every pool a Box, Volume or Domain names, on the selected context; with
-A, on every context the store's objects live on.
`,
  config: `Usage: lv config set-context NAME [--host HOST] [--port N] [--connect-via-ssh] [--username USER]
                         [--id-ssh-key-file FILE] [--password-stdin] [--driver kvm|qemu]
                         [--storage-pool-name POOL] [--default-network NET] | [--uri URI]
       lv config use-context NAME
       lv config get-contexts [NAME]
       lv config current-context
       lv config delete-context NAME
       lv config view

Contexts name libvirt hosts, with vagrant-libvirt's provider options; the file is like a kubeconfig
($LV_CONFIG, else $LV_HOME/config.yaml, else ~/.config/lv/config.yaml; written 0600). Which one a command
uses: --connect or --context, else $LV_CONNECT or $LV_CONTEXT, else currentContext, else qemu:///system.
lv apply records the context in each resource (spec.context), so one store spans several hosts; storage
pool and default network of the context become the defaults of what is applied there.

With --connect-via-ssh lv connects with qemu+ssh://USER@HOST:PORT/system: the host key is trusted on first
use and pinned, the key file (or the password, read from stdin and kept in the config file) is used by
lv's own ssh wrapper, and guests on the host's private networks are reached through it (lv ssh, rsync,
provisioning, ssh-config's ProxyCommand).

Flags of set-context:
  --host HOST               libvirt host (none: this machine)
  --port N                  its SSH port (default 22)
  --connect-via-ssh         use qemu+ssh:// (else qemu://HOST/system)
  --username USER           SSH user on the host
  --id-ssh-key-file FILE    SSH private key for the host
  --password-stdin          read the SSH password from stdin
  --driver kvm|qemu         vagrant-libvirt's driver option (both use libvirt's qemu driver)
  --storage-pool-name POOL  default pool for boxes and volumes applied in this context
  --default-network NET     management network (a libvirt network on the host) for domains
  --uri URI                 a raw libvirt URI instead of the fields above
`,
  apply: `Usage: lv apply -f FILE [-f FILE...] [--wait=false] [--timeout=10m]

Validates every document of every file first (nothing is written if any is invalid), then creates or
updates each resource and prints KIND/NAME created|configured|unchanged. Unless --wait=false, runs the
controllers (or lets a running 'lv controller' do it) until every applied resource is Ready, printing
progress on stderr. FILE may be a directory (its *.yaml files) or - for stdin.

Flags:
  -f, --filename FILE  manifest file, directory or -
  --wait=false         only write; do not wait for Ready
  --timeout DURATION   give up waiting after this long (default 10m)
`,
  get: `Usage: lv get KIND[,KIND...] [NAME...] [-o FORMAT] [-l key=value] [-A]
       lv get KIND/NAME...

KIND: boxes, volumes, networks, domains (also box, vol, net, dom, vm).

Flags:
  -o, --output FORMAT  table (default), wide, yaml, json, name
  -l, --selector SEL   only objects with these labels: key=value[,key=value]
  -A, --all-namespaces list every namespace and context (NAMESPACE and CONTEXT columns); without it,
                       only the selected context's objects
`,
  describe: `Usage: lv describe KIND [NAME...] | KIND/NAME...

Shows metadata, spec, status, conditions and the recent events of each object.
`,
  delete: `Usage: lv delete -f FILE | KIND NAME... | KIND/NAME... [--wait=false] [--timeout=10m]

Marks the resources for deletion, then (unless --wait=false) runs the controllers until they and the
objects they own are gone from the store and libvirt, and prints KIND/NAME deleted.

Flags:
  -f, --filename FILE   delete what FILE declares
  --ignore-not-found    a missing resource is not an error
  --wait=false          do not wait
  --timeout DURATION    give up waiting after this long (default 10m)
`,
  wait: `Usage: lv wait KIND/NAME... --for=condition=NAME[=True|False] [--timeout=30s]
       lv wait KIND/NAME... --for=delete

Blocks until the condition holds for the current generation of every object; exit 1 on timeout.
Runs the controllers meanwhile when no 'lv controller' is running.
`,
  controller: `Usage: lv controller [--resync=30s] [--workers=4]

Runs the controllers until SIGINT or SIGTERM. Every object is reconciled again every --resync, so
changes made behind lv's back (a destroyed domain, a stopped network) are repaired. While it runs,
'lv apply' only writes and waits.
`,
  up: verbUsage(
    "up",
    "Sets spec.state to Running, syncs rsync folders again, and waits until the guest is Ready.",
  ),
  halt: verbUsage("halt", "Sets spec.state to Stopped: ACPI shutdown, power off after gracefulHaltTimeout."),
  suspend: verbUsage("suspend", "Sets spec.state to Paused (virsh suspend)."),
  resume: verbUsage("resume", "Sets spec.state to Running from Paused (virsh resume)."),
  reload: verbUsage(
    "reload",
    "Stops and starts the domain so changes that need a boot apply, then syncs folders and runs the 'always' provisioners.",
  ),
  provision: verbUsage(
    "provision",
    "Runs every provisioner again (run: once ones too), streaming their output.",
  ),
  rsync: verbUsage("rsync", "Copies every rsync synced folder to the guest again."),
  ssh: `Usage: lv ssh NAME [-- COMMAND...]

Opens a shell on the guest (a real TTY when stdin is one), or runs COMMAND and exits with its exit code.
The guest's host key is the one pinned at first contact; a changed key is an error.
`,
  "ssh-config": `Usage: lv ssh-config NAME...

Prints an OpenSSH config block per domain (address, user, key, pinned host key), so plain ssh, scp and
rsync work: lv ssh-config web >> ~/.ssh/config && ssh web
`,
  snapshot: `Usage: lv snapshot save NAME SNAPSHOT | list NAME | revert NAME SNAPSHOT | delete NAME SNAPSHOT

libvirt snapshots (internal, qcow2) of a domain lv made. describe lists them too.
`,
  doctor: `Usage: lv doctor

Checks virsh, qemu-img, libvirtd, KVM, the default pool and the store's permissions, and prints the fix
for each problem. Exit 1 when a check fails.
`,
  explain: `Usage: lv explain KIND[.field.path]

Documents a kind or one of its fields: type, default, description and child fields.
Example: lv explain domain.spec.interfaces
`,
  schema: `Usage: lv schema [KIND]

Prints the JSON Schema (draft 2020-12) of one kind, or of all kinds.
`,
  version: `Usage: lv version

Prints lv's version and the libvirt daemon's.
`,
};

function verbUsage(verb: string, what: string): string {
  return `Usage: lv ${verb} NAME... [--wait=false] [--timeout=10m]

${what}

Flags:
  --wait=false         only record the request; do not wait
  --timeout DURATION   give up waiting after this long (default 10m)
`;
}

export function usage(command: string): string {
  const text = USAGE[command];
  if (!text) throw new UsageError(`no help for "${command}"`, "run 'lv help' for the list of commands");
  return text;
}
