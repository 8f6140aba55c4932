using System;

namespace SlabGen;

/// <summary>
/// A free of an object that is already free: the second free of a double free. Thrown before anything changes, so
/// the cache is exactly as it was and the object stays free once (glibc aborts at this point; SlabGen refuses).
/// </summary>
public sealed class DoubleFreeException : InvalidOperationException
{
    /// <summary>Creates the exception for a double free of <paramref name="address"/> in cache <paramref name="cacheName"/>.</summary>
    public DoubleFreeException(string cacheName, nuint address, string message)
        : base(message)
    {
        CacheName = cacheName;
        Address = address;
    }

    /// <summary>The cache the object belongs to.</summary>
    public string CacheName { get; }

    /// <summary>The object's address.</summary>
    public nuint Address { get; }
}
