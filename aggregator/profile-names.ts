// The names of the profiles shipped with Pinger, with no dependency: the charm validates its `profile`
// config on every hook and needs only these, not the profile parser (profile.ts, which loads the YAML one).
export const BUILTIN = ['openstack', 'demo'] as const;
