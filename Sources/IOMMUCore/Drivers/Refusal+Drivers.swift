/// What the drivers' refusals share: the IOMMU instances a check compared, and the
/// constructors of the rules in `Refusal+IOMMUDriver.swift` with the values drivers give them.
extension Refusal.InvolvedValue {
    /// The IOMMU instance of what a check compared: `domain's IOMMU smmu1`.
    static func iommu(_ driver: any IOMMUDriver, of holder: String, _ role: Refusal.Role) -> Self {
        Self("\(holder)'s IOMMU \(driver.name)", nil, role)
    }

    /// A capability bit of the hardware a check needed and found clear: `IDR0.S1P=0`.
    static func lacking(_ capability: String) -> Self { Self(capability, 0, .flag) }
}

extension Refusal {
    /// `domain_alloc_paging_flags` given driver data (EOPNOTSUPP).
    static func pagingUserData(_ userData: UserData) -> Refusal {
        Refusal(.EOPNOTSUPP, .pagingDomainData, values: [InvolvedValue("data_type", UInt64(userData.type), .requested),
                                                          InvolvedValue("data_len", UInt64(userData.length), .requested)])
    }

    /// A domain of `owner`'s driver attached through `iommu`, a unit of another driver (EINVAL).
    static func otherDriversDomain(_ owner: any IOMMUDriver, device iommu: any IOMMUDriver) -> Refusal {
        Refusal(.EINVAL, .domainOfOtherDriver, values: [.iommu(owner, of: "domain", .owner), .iommu(iommu, of: "device", .requested)])
    }
}
