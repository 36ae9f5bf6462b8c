/**
 * Annotations lv's commands set on a Domain to ask for work (like kubectl rollout restart): the value is
 * the time of the request; the controller records the value it acted on in status.
 */

/** lv provision: run every provisioner again, `run: once` ones too. Done when status.guest.provisionRequest equals it. */
export const PROVISION_ANNOTATION = "lv.dev/provision-requested-at";
/** lv rsync (and lv up): sync the folders again. Done when status.guest.rsyncRequest equals it. */
export const RSYNC_ANNOTATION = "lv.dev/rsync-requested-at";
/** lv reload: stop and start the domain. Done when status.restartRequest equals it. */
export const RELOAD_ANNOTATION = "lv.dev/restart-requested-at";
