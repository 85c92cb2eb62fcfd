// The client address a per-address limit counts by, from grpc-js's getPeer() strings.
import assert from 'node:assert/strict';
import { peerHost, peerKey } from '../../src/api/peer.js';

describe('peerHost and peerKey', () => {
  it('drop the port from IPv4, bare IPv6 and bracketed IPv6 peers', () => {
    assert.equal(peerHost('127.0.0.1:53412'), '127.0.0.1');
    assert.equal(peerHost('::1:53412'), '::1');
    // A valid IPv6 address on its own, but grpc-js always appends the port: it is ::1, port 5000.
    assert.equal(peerHost('::1:5000'), '::1');
    assert.equal(peerHost('2001::a:b:c:d:80'), '2001::a:b:c:d');
    assert.equal(peerHost('[2001:db8::7]:443'), '2001:db8::7');
    assert.equal(peerHost('10.0.0.1'), '10.0.0.1');
    assert.equal(peerHost('unknown'), 'unknown');
  });

  it('count an IPv4 client by its address, also when it arrives IPv4-mapped', () => {
    assert.equal(peerKey('10.1.2.3:5000'), '10.1.2.3');
    assert.equal(peerKey('::ffff:10.1.2.3:5000'), '10.1.2.3');
  });

  it('count an IPv6 client by its /64', () => {
    assert.equal(peerKey('2001:db8:0:1::5:5000'), '2001:db8:0:1::/64');
    assert.equal(peerKey('[2001:0db8:0000:0001:ffff:0:0:1]:5000'), '2001:db8:0:1::/64');
    assert.equal(peerKey('::1:5000'), '0:0:0:0::/64');
    assert.equal(peerKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.notEqual(peerKey('2001:db8:0:1::5:5000'), peerKey('2001:db8:0:2::5:5000'));
  });
});
