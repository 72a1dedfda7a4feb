using System.Security.Cryptography;
using ActorSync.Peer.Links;
using Xunit;

namespace ActorSync.Peer.Tests.Links;

public sealed class PinDirectorySpecs
{
    [Fact]
    public void PinDirectory_should_find_a_device_by_its_pin_and_a_pin_by_its_device()
    {
        var directory = new PinDirectory();
        var device = LinkTestDevice.NewDeviceId();
        var pin = RandomNumberGenerator.GetBytes(32);

        Assert.True(directory.Add(device, pin));

        Assert.Equal(device, directory.DeviceForPin(pin));
        Assert.Equal(pin, directory.PinForDevice(device));
        Assert.Null(directory.DeviceForPin(RandomNumberGenerator.GetBytes(32)));
        Assert.Null(directory.DeviceForPin(pin.AsSpan(0, 20)));
        Assert.Null(directory.PinForDevice(LinkTestDevice.NewDeviceId()));
    }

    [Fact]
    public void PinDirectory_should_forget_the_old_pin_when_a_device_gets_a_new_one()
    {
        var directory = new PinDirectory();
        var device = LinkTestDevice.NewDeviceId();
        var oldPin = RandomNumberGenerator.GetBytes(32);
        var newPin = RandomNumberGenerator.GetBytes(32);
        directory.Add(device, oldPin);

        Assert.True(directory.Add(device, newPin));

        Assert.Null(directory.DeviceForPin(oldPin));
        Assert.Equal(device, directory.DeviceForPin(newPin));
        Assert.Equal(1, directory.Count);
    }

    [Fact]
    public void PinDirectory_should_not_let_a_second_device_claim_a_pin_already_held()
    {
        var directory = new PinDirectory();
        var owner = LinkTestDevice.NewDeviceId();
        var claimant = LinkTestDevice.NewDeviceId();
        var pin = RandomNumberGenerator.GetBytes(32);
        directory.Add(owner, pin);

        Assert.False(directory.Add(claimant, pin));

        Assert.Equal(owner, directory.DeviceForPin(pin));
        Assert.Null(directory.PinForDevice(claimant));
    }

    [Fact]
    public void PinDirectory_should_refuse_links_from_a_removed_device()
    {
        var directory = new PinDirectory();
        var device = LinkTestDevice.NewDeviceId();
        var pin = RandomNumberGenerator.GetBytes(32);
        directory.Add(device, pin);

        Assert.True(directory.Remove(device));

        Assert.Null(directory.DeviceForPin(pin));
        Assert.Null(directory.PinForDevice(device));
        Assert.False(directory.Remove(device));
    }

    [Fact]
    public void PinDirectory_should_keep_its_own_copy_of_pins()
    {
        var directory = new PinDirectory();
        var device = LinkTestDevice.NewDeviceId();
        var pin = RandomNumberGenerator.GetBytes(32);
        var original = (byte[])pin.Clone();
        directory.Add(device, pin);

        pin[0] ^= 0xFF;
        directory.PinForDevice(device)![1] ^= 0xFF;

        Assert.Equal(original, directory.PinForDevice(device));
    }

    [Fact]
    public void PinDirectory_should_reject_a_pin_that_is_not_a_sha256()
    {
        var directory = new PinDirectory();
        Assert.Throws<ArgumentException>(() => directory.Add(LinkTestDevice.NewDeviceId(), new byte[20]));
    }

    [Fact]
    public async Task PinDirectory_should_stay_consistent_under_concurrent_updates_and_reads()
    {
        var directory = new PinDirectory();
        var devices = Enumerable.Range(0, 64).Select(_ => (Id: LinkTestDevice.NewDeviceId(), Pin: RandomNumberGenerator.GetBytes(32))).ToArray();

        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            for (var round = 0; round < 200; round++)
            {
                foreach (var (id, pin) in devices.Where((_, i) => i % 4 == w))
                {
                    directory.Add(id, pin);
                    if (round % 3 == 0) directory.Remove(id);
                }
            }
        }));
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var round = 0; round < 200; round++)
            {
                foreach (var (id, pin) in devices)
                {
                    // A pin only ever maps to its own device, whatever the interleaving.
                    var found = directory.DeviceForPin(pin);
                    Assert.True(found is null || found == id);
                }
            }
        }));
        await Task.WhenAll(writers.Concat(readers));

        foreach (var (id, pin) in devices)
        {
            Assert.Equal(id, directory.DeviceForPin(pin));
            Assert.Equal(pin, directory.PinForDevice(id));
        }
    }
}
