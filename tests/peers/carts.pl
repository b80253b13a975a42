#!/usr/bin/perl
# tests/peers/carts.pl AFTER_MS RECOVER_MS GAP_MS < events -- an independent
# model of ecs-session --abandon for a stream in time order (lateness 0),
# written for 34-session.bats: the abandoned_cart and cart_recovered lines,
# with amounts in integer millionths and times computed here.
use strict;
use warnings;
use JSON::PP;

my ($after, $recover, $gap) = @ARGV;
my $maxdur = 86400000;
my $json = JSON::PP->new->canonical(0);
my (%cart, %sess, $wm, $seq);
$seq = 0;

sub days {	# days from 1970-01-01 of a civil date (Howard Hinnant)
	my ($y, $m, $d) = @_;
	$y -= $m <= 2;
	my $era = int(($y >= 0 ? $y : $y - 399) / 400);
	my $yoe = $y - $era * 400;
	my $doy = int((153 * ($m + ($m > 2 ? -3 : 9)) + 2) / 5) + $d - 1;
	my $doe = $yoe * 365 + int($yoe / 4) - int($yoe / 100) + $doy;
	return $era * 146097 + $doe - 719468;
}
sub ms {
	my ($y, $mo, $d, $h, $mi, $s, $f) =
	    $_[0] =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,3}))?Z$/
	    or die "time $_[0]";
	$f = defined $f ? substr($f . "00", 0, 3) : 0;
	return ((days($y, $mo, $d) * 24 + $h) * 60 + $mi) * 60000 + $s * 1000 + $f;
}
sub iso {
	my $t = shift;
	my @g = gmtime(int($t / 1000));
	my $s = sprintf("%04d-%02d-%02dT%02d:%02d:%02d", $g[5] + 1900, $g[4] + 1,
	    $g[3], $g[2], $g[1], $g[0]);
	return $s . ($t % 1000 ? sprintf(".%03dZ", $t % 1000) : "Z");
}
sub micro {	# a decimal as an integer of millionths
	my ($i, $f) = $_[0] =~ /^(\d+)(?:\.(\d{1,6}))?$/ or die "price $_[0]";
	return $i * 1000000 + substr(($f // "") . "000000", 0, 6);
}
sub dec { my $v = shift; return sprintf("%d.%06d", int($v / 1000000), $v % 1000000); }
sub units { my $c = shift; my $n = 0; $n += $_->{q} for @{$c->{items}}; $n }
sub due {
	my $c = shift;
	return $c->{last} + $after if $c->{armed} && units($c) > 0;
	# A purchase $recover after the alert still recovers: the watch ends
	# when the watermark is past it.
	return $c->{alert_at} + $recover + 1 if defined $c->{alert_at};
	return undef;
}
sub out { print $json->encode($_[0]), "\n"; }
sub alert {
	my ($u, $c) = @_;
	$c->{alert_at} = $c->{last} + $after;
	$c->{armed} = 0;
	my ($v, @items) = (0);
	for my $it (@{$c->{items}}) {
		$it->{alerted} = $it->{q};
		next unless $it->{q} > 0;
		push @items, { product_id => $it->{p}, quantity => $it->{q},
		    price => dec($it->{price}) };
		$v += $it->{q} * $it->{price};
	}
	out({ alert => "abandoned_cart", user_id => $u, items => \@items,
	    value => dec($v), last_activity => iso($c->{last}),
	    session => "$u\@" . iso($c->{sstart}) });
}
sub tick {
	for (;;) {
		my @due = sort { $a->[1] <=> $b->[1] || $a->[2] <=> $b->[2] }
		    map { [$_, due($cart{$_}), $cart{$_}{seq}] }
		    grep { defined due($cart{$_}) } keys %cart;
		last unless @due && $due[0][1] <= $wm;
		my $u = $due[0][0];
		my $c = $cart{$u};
		alert($u, $c) if $c->{armed} && units($c) > 0;
		my $d = due($c);
		delete $cart{$u} if !defined $d || $d <= $wm;
	}
}
while (my $line = <STDIN>) {
	my $e = decode_json($line);
	my ($u, $a, $p) = ($e->{user_id}, $e->{action}, $e->{product_id});
	my $t = ms($e->{ts});
	my $q = $e->{quantity} // 1;
	my $s = $sess{$u};
	if (!$s || $t - $s->{end} >= $gap || $t - $s->{start} >= $maxdur) {
		$s = $sess{$u} = { start => $t, end => $t };
	}
	$s->{end} = $t;
	my $c = $cart{$u};
	if ($a eq 'add_to_cart' || ($c && ($a eq 'remove_from_cart' || $a eq 'purchase'))) {
		if (!$c) {
			$c = $cart{$u} = { items => [], seq => $seq };
		}
		my ($it) = grep { $_->{p} eq $p } @{$c->{items}};
		if (!$it && $a eq 'add_to_cart') {
			$it = { p => $p, q => 0, alerted => 0 };
			push @{$c->{items}}, $it;
		}
		if ($it) {
			if ($a eq 'add_to_cart') {
				$it->{q} += $q;
				$it->{price} = micro($e->{price});
				$c->{armed} = 1;
			} elsif ($a eq 'remove_from_cart') {
				$it->{q} -= $q < $it->{q} ? $q : $it->{q};
			} else {
				my $n = $q < $it->{alerted} ? $q : $it->{alerted};
				if ($n > 0 && defined $c->{alert_at} &&
				    $t - $c->{alert_at} <= $recover) {
					out({ alert => "cart_recovered", user_id => $u,
					    items => [{ product_id => $p, quantity => $n,
					    price => dec($it->{price}) }],
					    value => dec($n * $it->{price}), ts => iso($t),
					    after_s => ($t - $c->{alert_at}) / 1000,
					    session => "$u\@" . iso($s->{start}) });
					$it->{alerted} -= $n;
				}
				$it->{q} -= $q < $it->{q} ? $q : $it->{q};
			}
			if (!defined $c->{last} || $t >= $c->{last}) {
				$c->{last} = $t;
				$c->{sstart} = $s->{start};
			}
			delete $cart{$u} unless defined due($c);
		}
	}
	$seq++;
	$wm = $t if !defined $wm || $t > $wm;
	tick();
}
