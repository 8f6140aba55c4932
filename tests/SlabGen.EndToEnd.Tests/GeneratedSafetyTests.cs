using System;
using Xunit;

namespace SlabGen.EndToEnd.Tests;

/// <summary>The generated API refuses a double free like every other free entry point, ctor caches included.</summary>
[Collection(CacheCollection.Name)]
public unsafe class GeneratedSafetyTests
{
    [Fact]
    public void A_generated_free_refuses_a_double_free_and_keeps_the_constructed_state()
    {
        Packet* p = Packet.Alloc();
        Assert.Equal(Packet.Constructed, p->Length); // built by the ctor when its slab was populated
        p->Length = 100;
        p->Owner = 7;
        Packet.Free(p);
        var e = Assert.Throws<DoubleFreeException>(() => Packet.Free(p));
        Assert.Contains("e2e_packet", e.Message);
        Assert.Contains("double free", e.Message);
        // The check word of a ctor cache lives outside the object: what the last user left is still there.
        Assert.Equal(100, p->Length);
        Assert.Equal(7, p->Owner);
        Packet* again = Packet.Alloc();
        Assert.True(again == p); // LIFO: the same object, handed out once
        Assert.Equal(100, again->Length);
        // Objects of a ctor cache go back in their constructed state (Bonwick): another test allocating packets later
        // must not be handed this one with the values written above.
        again->Length = Packet.Constructed;
        again->Owner = 0;
        Packet.Free(again);
    }

    [Fact]
    public void A_generated_Rent_copied_and_disposed_twice_is_refused()
    {
        SlabRef<E2eMessage> r = E2eMessage.Rent();
        SlabRef<E2eMessage> copy = r;
        r.Dispose();
        Exception? refused = null;
        try
        {
            copy.Dispose();
        }
        catch (DoubleFreeException e)
        {
            refused = e;
        }
        Assert.NotNull(refused);
    }

    [Fact]
    public void A_merged_cache_refuses_a_double_free_through_kmalloc_too()
    {
        Small* s = Small.Alloc();
        Small.Free(s);
        Assert.Throws<DoubleFreeException>(() => Small.Free(s));
        Assert.Throws<DoubleFreeException>(() => Kmalloc.Free(s)); // the same kmalloc-16 object
    }
}
