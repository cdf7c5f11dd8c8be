#!/usr/bin/perl
# A simulated hook tool: forwards argv (and stdin for `--file -`) to the simulator's socket and prints
# what it answers, with its exit code. Perl starts in a few ms; Node would cost ~0.2 s per tool call.
# Request: NUL-joined tool, context file, stdin, args. Answer: "<code> <stdout bytes>\n" stdout stderr.
use strict;
use Socket;
my $tool = $ENV{PINGER_SIM_TOOL} // ($0 =~ m{([^/]+)$})[0];
my $stdin = '';
if (($tool eq 'relation-set' || $tool eq 'state-set') && grep { $_ eq '-' } @ARGV) { local $/; $stdin = <STDIN> // ''; }
socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "ERROR socket: $!\n";
connect($s, sockaddr_un($ENV{PINGER_SIM_SOCKET} // '')) or do { print STDERR "ERROR cannot reach the hook-tool simulator: $!\n"; exit 1 };
binmode $s;
my $req = join("\0", $tool, $ENV{PINGER_SIM_CONTEXT} // '', $stdin, @ARGV);
while (length $req) { my $n = syswrite($s, $req) // die "ERROR write: $!\n"; substr($req, 0, $n) = ''; }
shutdown($s, 1);
local $/;
my $r = <$s> // '';
my ($code, $n, $rest) = $r =~ /^(\d+) (\d+)\n(.*)$/s or do { print STDERR "ERROR bad answer from the simulator\n"; exit 1 };
binmode STDOUT; binmode STDERR;
print STDOUT substr($rest, 0, $n);
print STDERR substr($rest, $n);
exit $code;
