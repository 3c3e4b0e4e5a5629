// The webhook destination policy: which addresses count as public unicast, with the
// edges of each refused range and IPv6 spellings of IPv4 addresses.
import { describe, expect, it } from "vitest";
import { addressRange, hostAddress, isNonPublicHostname, isPublicAddress } from "../../src/domain/network-policy.ts";

describe("addressRange", () => {
  it.each([
    // IPv4: each refused range, with the public neighbours of its edges
    ["0.0.0.0", "unspecified"],
    ["0.255.255.255", "unspecified"],
    ["1.0.0.0", "unicast"],
    ["9.255.255.255", "unicast"],
    ["10.0.0.0", "private"],
    ["10.255.255.255", "private"],
    ["11.0.0.0", "unicast"],
    ["100.63.255.255", "unicast"],
    ["100.64.0.1", "carrierGradeNat"],
    ["100.127.255.255", "carrierGradeNat"],
    ["100.128.0.0", "unicast"],
    ["126.255.255.255", "unicast"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["128.0.0.0", "unicast"],
    ["169.253.255.255", "unicast"],
    ["169.254.169.254", "linkLocal"],
    ["169.255.0.0", "unicast"],
    ["172.15.255.255", "unicast"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.0", "unicast"],
    ["192.0.0.8", "reserved"],
    ["192.0.2.1", "reserved"],
    ["192.167.255.255", "unicast"],
    ["192.168.0.1", "private"],
    ["192.169.0.0", "unicast"],
    ["198.17.255.255", "unicast"],
    ["198.18.0.1", "benchmarking"],
    ["198.19.255.255", "benchmarking"],
    ["198.20.0.0", "unicast"],
    ["198.51.100.7", "reserved"],
    ["203.0.113.7", "reserved"],
    ["223.255.255.255", "unicast"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.255", "multicast"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "broadcast"],
    ["8.8.8.8", "unicast"],
    // IPv6
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["::2", "ipv4Compatible"],
    ["::7f00:1", "ipv4Compatible"],
    ["fe80::1", "linkLocal"],
    ["febf:ffff::1", "linkLocal"],
    ["fec0::1", "siteLocal"],
    ["fc00::1", "uniqueLocal"],
    ["fdff:ffff::1", "uniqueLocal"],
    ["fbff:ffff::1", "unicast"],
    ["ff02::1", "multicast"],
    ["100::1", "discard"],
    ["2001:db8::1", "reserved"],
    ["3fff::1", "reserved"],
    ["2001::1", "teredo"],
    ["2001:2::1", "ietfProtocol"],
    ["2002:7f00:1::1", "6to4"],
    ["64:ff9b:1::1", "nat64LocalUse"],
    ["2001:4860:4860::8888", "unicast"],
    ["2606:4700::1111", "unicast"],
    // IPv4 inside IPv6: judged by the IPv4 address
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:169.254.169.254", "linkLocal"],
    ["::ffff:0.0.0.0", "unspecified"],
    ["::ffff:8.8.8.8", "unicast"],
    ["64:ff9b::7f00:1", "loopback"],
    ["64:ff9b::c0a8:1", "private"],
    ["64:ff9b::808:808", "unicast"],
    ["::ffff:0:127.0.0.1", "rfc6145"],
    // Not addresses (names go through DNS; legacy IPv4 spellings are never looked up as such)
    ["localhost", "invalid"],
    ["127.1", "invalid"],
    // ipaddr.js 1.x reads a dotted tail only after ::ffff:; DNS and URLs give the hex form, and unreadable fails closed
    ["64:ff9b::127.0.0.1", "invalid"],
    ["", "invalid"],
  ])("%s is %s", (address, range) => {
    expect(addressRange(address)).toBe(range);
    expect(isPublicAddress(address)).toBe(range === "unicast");
  });
});

describe("URL hosts", () => {
  it("hostAddress takes an IP literal out of its URL form and leaves names alone", () => {
    expect(hostAddress("[::1]")).toBe("::1");
    expect(hostAddress("127.0.0.1")).toBe("127.0.0.1");
    expect(hostAddress("example.com")).toBeNull();
    expect(hostAddress("localhost")).toBeNull();
  });

  it.each([
    ["127.0.0.1", true],
    ["[::1]", true],
    ["[::ffff:7f00:1]", true],
    ["localhost", true],
    ["LocalHost.", true],
    ["api.localhost", true],
    ["169.254.169.254", true],
    ["8.8.8.8", false],
    ["[2001:4860:4860::8888]", false],
    ["example.com", false],
    ["localhost.example.com", false],
  ])("isNonPublicHostname(%s) is %s", (hostname, expected) => {
    expect(isNonPublicHostname(hostname)).toBe(expected);
  });
});
