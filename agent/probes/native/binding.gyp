# Pinger's own native addon: raw ICMP sockets with kernel receive timestamps (agent/probes/native/icmp_ts.c).
# Built by `npm ci` (the package's install script); when it does not build, ICMP falls back to raw-socket.
{
  'targets': [
    {
      'target_name': 'pinger_icmp',
      'sources': ['icmp_ts.c'],
      'cflags': ['-O2', '-Wall', '-Wextra', '-Wno-unused-parameter'],
    }
  ]
}
